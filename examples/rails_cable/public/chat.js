// The page of examples/rails_cable: @rails/actioncable (served by the app from the actioncable gem,
// unmodified) with two subscriptions: ChatChannel (JSON events) and StreamsChannel (HTML
// fragments in the style of Turbo Streams, applied here). Text is only ever set with textContent.
import { createConsumer } from "/actioncable.esm.js";

const statusLine = document.getElementById("status");
const joinForm = document.getElementById("join-form");
const nicknameInput = document.getElementById("nickname");
const messageForm = document.getElementById("message-form");
const messageInput = document.getElementById("message");
const announceForm = document.getElementById("announce-form");
const announcementInput = document.getElementById("announcement");
const messages = document.getElementById("messages");

let chat = null;

function show(text, kind) {
  const item = document.createElement("li");
  item.textContent = text;
  if (kind) item.className = kind;
  messages.appendChild(item);
  item.scrollIntoView({ block: "end" });
}

function setStatus(text, connected) {
  statusLine.textContent = text;
  statusLine.className = connected ? "connected" : "disconnected";
  joinForm.hidden = connected || chat !== null;
  messageForm.hidden = !connected;
  announceForm.hidden = !connected;
}

// <turbo-stream action="append" target="ID"><template>…</template></turbo-stream>: the template's
// content is appended to the element with that id, as Turbo does for "append".
function applyStream(html) {
  const parsed = new DOMParser().parseFromString(html, "text/html");
  for (const stream of parsed.querySelectorAll("turbo-stream")) {
    const target = document.getElementById(stream.getAttribute("target"));
    const template = stream.querySelector("template");
    if (stream.getAttribute("action") === "append" && target && template) {
      target.append(document.importNode(template.content, true));
    }
  }
}

function join(nickname) {
  const consumer = createConsumer("/cable?nickname=" + encodeURIComponent(nickname));
  chat = consumer.subscriptions.create("ChatChannel", {
    connected() {
      setStatus("Connected as " + nickname, true);
      show("Connected as " + nickname, "info");
    },
    disconnected() {
      setStatus("Disconnected", false);
    },
    received(event) {
      if (event.event === "joined") show(event.nickname + " joined", "info");
      if (event.event === "said") show(event.nickname + ": " + event.text);
    },
  });
  consumer.subscriptions.create("StreamsChannel", { received: applyStream });
  window.chatConsumer = consumer;
}

joinForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const nickname = nicknameInput.value.trim();
  if (nickname && !chat) join(nickname);
});

messageForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = messageInput.value;
  if (text && chat.perform("speak", { text })) messageInput.value = "";
});

announceForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = new URLSearchParams({ text: announcementInput.value });
  const response = await fetch("/announce", { method: "POST", body });
  if (response.ok) announcementInput.value = "";
});
