// bench/ws on node's ws (the peer that offers permessage-deflate), the same behaviour as
// bromine.ru:
//   /echo  every message is written back
//   /sub   receives every message published to "bench"
//   /pub   every message is sent to every subscriber (ws compresses per subscriber)
// Anything else gets a plain 200 "OK", which bench/ws/run polls until the server is up.
//   node bench/ws/node_ws.js PORT
// perMessageDeflate as ws ships it when switched on: context takeover both ways (one deflate and
// one inflate context per connection), zlib's default level, messages of 1024 bytes and more.
"use strict";

const http = require("http");
const { WebSocketServer } = require("ws");

const port = Number(process.argv[2]);
const server = http.createServer((request, response) => {
  response.writeHead(200, { "content-type": "text/plain", "content-length": "2" });
  response.end("OK");
});
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: true, maxPayload: 64 << 20 });
const subscribers = new Set();

wss.on("connection", (socket, request) => {
  const path = request.url;
  if (path === "/sub") {
    subscribers.add(socket);
    socket.on("close", () => subscribers.delete(socket));
  }
  socket.on("message", (data, isBinary) => {
    if (path === "/echo") socket.send(data, { binary: isBinary });
    else if (path === "/pub") for (const s of subscribers) s.send(data, { binary: isBinary });
  });
});
server.on("upgrade", (request, socket, head) => {
  wss.handleUpgrade(request, socket, head, (ws) => wss.emit("connection", ws, request));
});
server.listen(port, "127.0.0.1");
process.on("SIGTERM", () => process.exit(0));
