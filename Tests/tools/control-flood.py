#!/usr/bin/python3
# control-flood.py SOCKET COUNT [silent]: opens COUNT connections to aiosd's control socket, each with half a
# request head (a slow client), or with nothing at all ("silent": refused ones then wait for their request, up
# to aiosd's cap of such waits), prints how many stayed open (admitted) after 1.5 s -- in silent mode
# "ADMITTED BUSY CLOSED": open, answered 503 busy, closed without a word -- then holds them until stdin closes
# or 20 s pass. Used by the Swift flood tests and e2e scenario 72.
import select, socket, sys, time

silent = len(sys.argv) > 3 and sys.argv[3] == "silent"
held, still_open, busy, closed = [], 0, 0, 0
for _ in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    if not silent:
        s.sendall(b"GET /v1/status HTTP/1.1\r\nHost: a")
    held.append(s)
time.sleep(1.5)
for s in held:
    s.setblocking(False)
    try:
        answer = s.recv(4096)  # a 503 "busy", or the close of a refused connection
    except BlockingIOError:
        still_open += 1  # admitted: waiting for the rest of its request
        continue
    except ConnectionResetError:
        answer = b""
    if answer.startswith(b"HTTP/1.1 503") and b'"busy"' in answer:
        busy += 1
    else:
        closed += 1
print("%d %d %d" % (still_open, busy, closed) if silent else still_open, flush=True)
select.select([sys.stdin], [], [], 20)
