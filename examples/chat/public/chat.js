// The chat page: plain JavaScript, no libraries. Connects a WebSocket to /<nickname> on the same
// host and shows every message the server sends. Text is only ever set with textContent.
"use strict";

(function () {
  const statusLine = document.getElementById("status");
  const joinForm = document.getElementById("join-form");
  const nicknameInput = document.getElementById("nickname");
  const messageForm = document.getElementById("message-form");
  const messageInput = document.getElementById("message");
  const leaveButton = document.getElementById("leave");
  const messages = document.getElementById("messages");

  let socket = null;

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
    joinForm.hidden = connected;
    messageForm.hidden = !connected;
    (connected ? messageInput : nicknameInput).focus();
  }

  function chatUrl(nickname) {
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    return scheme + "//" + window.location.host + "/" + encodeURIComponent(nickname);
  }

  function connect(nickname) {
    socket = new WebSocket(chatUrl(nickname));
    nicknameInput.disabled = true;
    socket.onopen = function () {
      setStatus("Connected", true);
      show("Connected as " + nickname, "notice");
    };
    socket.onmessage = function (event) {
      if (typeof event.data === "string") show(event.data);
    };
    socket.onclose = function (event) {
      socket = null;
      nicknameInput.disabled = false;
      setStatus("Disconnected", false);
      show("Disconnected (" + event.code + (event.reason ? " " + event.reason : "") + ")", "notice");
    };
  }

  joinForm.addEventListener("submit", function (event) {
    event.preventDefault();
    const nickname = nicknameInput.value.trim();
    if (nickname !== "" && socket === null) connect(nickname);
  });

  messageForm.addEventListener("submit", function (event) {
    event.preventDefault();
    const text = messageInput.value;
    if (text === "" || socket === null || socket.readyState !== WebSocket.OPEN) return;
    socket.send(text);
    messageInput.value = "";
  });

  leaveButton.addEventListener("click", function () {
    if (socket !== null) socket.close(1000, "bye");
  });
})();
