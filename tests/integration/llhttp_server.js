// The framing yardstick of test_framing_llhttp.py: a bare Node.js HTTP server (llhttp in its default,
// strict mode). It answers every request it can frame with 200 and the length of the body it read;
// Node answers what llhttp refuses with 400 and closes. Prints its port on the first line.
'use strict';
const http = require('http');

const server = http.createServer({ requireHostHeader: false }, (req, res) => {
  let n = 0;
  req.on('data', (d) => { n += d.length; });
  req.on('end', () => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end(String(n));
  });
});
server.on('clientError', (err, socket) => {
  if (socket.writable) {
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  } else {
    socket.destroy();
  }
});
server.listen(0, '127.0.0.1', () => { console.log(server.address().port); });
