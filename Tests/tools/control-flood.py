#!/usr/bin/python3
# control-flood.py SOCKET COUNT: opens COUNT connections to aiosd's control socket, each with half a request
# head (a slow client), prints how many stayed open (admitted) after 1.5 s, then holds them until stdin closes
# or 20 s pass. Used by the Swift flood test and e2e scenario 72.
import select, socket, sys, time

held, still_open = [], 0
for _ in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    s.sendall(b"GET /v1/status HTTP/1.1\r\nHost: a")
    held.append(s)
time.sleep(1.5)
for s in held:
    s.setblocking(False)
    try:
        s.recv(4096)  # a 503 "busy", or the close of a refused connection
    except BlockingIOError:
        still_open += 1  # admitted: waiting for the rest of its request
print(still_open, flush=True)
select.select([sys.stdin], [], [], 20)
