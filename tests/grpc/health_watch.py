"""grpc.health.v1.Health/Watch on grpc-as with Python's grpcio: the current
status first (SERVING, SERVICE_UNKNOWN for names the server does not serve),
the stream kept open, client cancellation releasing it, open watches not
holding back unary calls, and on SIGTERM a NOT_SERVING update followed by the
end of the stream (UNAVAILABLE) with a clean, prompt exit."""
import json
import os
import queue
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from grpc_common import Proc, check, finish, free_port, stubs  # noqa: E402

tmp = tempfile.mkdtemp(prefix="grpc-watch-")
stubs(tmp)
import grpc  # noqa: E402
import health_pb2 as hpb  # noqa: E402
import health_pb2_grpc as hgrpc  # noqa: E402

SERVING, NOT_SERVING, UNKNOWN = 1, 2, 3


def drain(call, q):
    """Puts every streamed status, then ("end", code) when the stream ends."""
    try:
        for m in call:
            q.put(("msg", m.status))
        q.put(("end", grpc.StatusCode.OK))
    except grpc.RpcError as e:
        q.put(("end", e.code()))


def watch(stub, service):
    call = stub.Watch(hpb.HealthCheckRequest(service=service), timeout=60)
    q = queue.Queue()
    t = threading.Thread(target=drain, args=(call, q), daemon=True)
    t.start()
    return call, q, t


def main():
    cfg = os.path.join(tmp, "config.json")
    with open(cfg, "w") as f:
        json.dump({}, f)
    port = free_port()
    srv = Proc("grpc-as", ["-c", cfg, "-s", f"127.0.0.1:{port}", "--jwks-socket", "none", "--workers", "2"])
    ch = grpc.insecure_channel(f"127.0.0.1:{port}")
    h = hgrpc.HealthStub(ch)
    try:
        call, q, _ = watch(h, "")
        check(q.get(timeout=10) == ("msg", SERVING), "Watch(''): SERVING first")
        time.sleep(0.3)
        check(q.empty(), "Watch(''): stream stays open, nothing more sent")

        ucall, uq, _ = watch(h, "no.such.Service")
        check(uq.get(timeout=10) == ("msg", UNKNOWN), "Watch(unknown): SERVICE_UNKNOWN, not an error")

        # cancellation by the client ends the stream and frees it on the server
        ucall.cancel()
        check(uq.get(timeout=10) == ("end", grpc.StatusCode.CANCELLED), "cancelled watch ends")

        # more open watches than the server accepts unary calls (4 x 2 workers): unary calls still served
        many = [watch(h, "attestation.AttestationService") for _ in range(12)]
        for i, (_, mq, _) in enumerate(many):
            check(mq.get(timeout=10) == ("msg", SERVING), f"watch {i}: SERVING")
        check(h.Check(hpb.HealthCheckRequest(service=""), timeout=10).status == SERVING,
              "Check answered with 13 watches open")
        for c, _, _ in many[6:]:
            c.cancel()

        # malformed request: INVALID_ARGUMENT, stream closed
        raw = ch.unary_stream("/grpc.health.v1.Health/Watch", request_serializer=None,
                              response_deserializer=None)
        try:
            list(raw(b"\xff\xff\xff", timeout=10))
            check(False, "malformed Watch request accepted")
        except grpc.RpcError as e:
            check(e.code() == grpc.StatusCode.INVALID_ARGUMENT, f"malformed Watch request: {e.code()}")

        # shutdown: every open watch gets NOT_SERVING, then the stream ends; the server exits promptly
        t0 = time.time()
        srv.p.send_signal(15)
        for i, (_, mq, _) in enumerate([(call, q, None)] + many[:6]):
            check(mq.get(timeout=10) == ("msg", NOT_SERVING), f"watch {i}: NOT_SERVING on shutdown")
            end = mq.get(timeout=10)
            check(end[0] == "end" and end[1] == grpc.StatusCode.UNAVAILABLE, f"watch {i}: stream ended: {end}")
        check(srv.wait_exit(20) == 0, "grpc-as exit status 0 after shutdown with watches open")
        # the watches ended by themselves: no call had to be cancelled after the grace period
        # (the exit itself can take up to the grace period while gRPC waits for the client to close
        # its connection after GOAWAY, as with any connected client)
        check("still running" not in srv.text(), "no call left running at shutdown")
        print(f"shutdown took {time.time() - t0:.1f}s")
    finally:
        ch.close()
        srv.stop()
    finish()


main()
