"""An agency's IT team starting the way they will: a client generated from Pishkhan's OpenAPI
document by a third-party generator (openapi-python-client) files an application, reads the
events feed and downloads a document; and a webhook receiver verifies Pishkhan's deliveries with
a third-party Standard Webhooks library (standardwebhooks), which refuses a tampered one.

    python3 tests/exchange/agency_client.py target/debug/pishkhan

Runs `pishkhan demo` in a temporary folder; exits non-zero on the first failure.
"""

import hashlib
import http.server
import importlib
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

AGENCY = "tehran-civil-registry"
SERVICE = "tehran.birth-certificate"


def check(condition, message):
    if not condition:
        print(f"agency_client: FAILED: {message}", file=sys.stderr)
        sys.exit(1)


def main():
    binary = os.path.abspath(sys.argv[1])
    work = tempfile.mkdtemp(prefix="pishkhan-agency-client-")
    data = os.path.join(work, "data")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PISHKHAN_")}
    env["PISHKHAN_LOG_LEVEL"] = "warn"

    def pk(*args):
        done = subprocess.run(
            [binary, *args, "--data-dir", data], env=env, capture_output=True, text=True, timeout=120
        )
        check(done.returncode == 0, f"pishkhan {' '.join(args)}: {done.stderr}")
        return done.stdout

    server = subprocess.Popen(
        [binary, "demo", "--listen", "127.0.0.1:0", "--data-dir", data],
        env=env, stdout=subprocess.PIPE, text=True,
    )
    try:
        base = None
        for line in server.stdout:
            found = re.search(r"is serving (http://[0-9.:]+)", line)
            if found:
                base = found.group(1)
                break
        check(base is not None, "the demo did not start")
        run(pk, base, work)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print("agency_client: a generated client filed, read the feed and downloaded a document; "
          "standardwebhooks verified the delivery and refused a tampered one")


def run(pk, base, work):
    # The agency's webhook: a receiver here, with a fresh secret (shown once by the CLI).
    received = []

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["content-length"]))
            received.append((dict(self.headers.items()), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    pk("webhook", "set", AGENCY, hook)
    rotated = pk("webhook", "rotate", AGENCY, "--overlap-hours", "0")
    secret = re.search(r"(whsec_[A-Za-z0-9+/=]+)", rotated).group(1)
    token = pk("token", "create", "--username", "system.registry", "--label", "python client") \
        .split("(shown only now): ")[1].strip()

    # The client, generated from the served document by a third-party generator.
    spec = os.path.join(work, "openapi.json")
    with urllib.request.urlopen(f"{base}/api/v1/openapi.json") as r, open(spec, "wb") as f:
        f.write(r.read())
    out = os.path.join(work, "client")
    generated = subprocess.run(
        ["openapi-python-client", "generate", "--path", spec, "--output-path", out, "--meta", "none"],
        capture_output=True, text=True, timeout=300,
    )
    check(generated.returncode == 0, f"openapi-python-client: {generated.stdout}{generated.stderr}")
    sys.path.insert(0, os.path.dirname(out))
    package = importlib.import_module(os.path.basename(out))
    ops = lambda name: importlib.import_module(f"{package.__name__}.api.agency_systems.{name}")
    models = importlib.import_module(f"{package.__name__}.models")
    client = package.AuthenticatedClient(base_url=base, token=token, raise_on_unexpected_status=True)

    # File an application, as the agency system would (the program's own example body).
    example = json.loads(pk("applications", "example", SERVICE))
    filed = ops("submit_application").sync(client=client, body=models.SubmitBody.from_dict(example))
    check(filed is not None and re.fullmatch(r"[0-9]{8,20}", filed.code or ""), f"filed: {filed}")
    code = filed.code

    # The feed from the start, page by page, until the filing shows (long poll while waiting).
    after, seen = "0", []
    deadline = time.time() + 30
    while time.time() < deadline and not any(e.subject == code for e in seen):
        page = ops("list_events").sync(client=client, after=after, limit=50, wait=5)
        seen.extend(page.events)
        after = page.next_
    mine = [e for e in seen if e.subject == code]
    check(mine and mine[0].type_ == "application.filed", f"the feed has the filing: {mine}")
    check(len({e.id for e in seen}) == len(seen), "no event twice in the feed")
    again = ops("list_events").sync(client=client, after=after, limit=50)
    check(all(e.id not in {s.id for s in seen} for e in again.events), "reading on repeats nothing")

    # Its documents, as stored: bytes whose SHA-256 is the one the application lists.
    detail = ops("get_application").sync(client=client, code=code)
    check(detail.documents, "the application lists its documents")
    document = detail.documents[0]
    response = ops("get_document").sync_detailed(client=client, code=code, id=document.id)
    check(response.status_code == 200, f"document: {response.status_code}")
    digest = hashlib.sha256(response.content).hexdigest()
    check(digest == document.sha256, "the document's SHA-256 matches the listing")
    check(response.headers.get("x-content-sha256") == digest, "and its header")

    # The webhook delivery of the same event, verified by the Standard Webhooks library.
    deadline = time.time() + 30
    while time.time() < deadline and not any(code in body.decode() for _, body in received):
        time.sleep(0.2)
    delivered = [(h, b) for h, b in received if code in b.decode()]
    check(delivered, "the webhook received the filing")
    headers, body = delivered[0]
    headers = {k.lower(): v for k, v in headers.items()}
    payload = Webhook(secret).verify(body, headers)
    check(payload["id"] == headers["webhook-id"] == mine[0].id, "the same event id both ways")
    check(payload["type"] == "application.filed", "typed")
    try:
        Webhook(secret).verify(body.replace(b"filed", b"fi1ed"), headers)
        check(False, "a tampered body must not verify")
    except WebhookVerificationError:
        pass
    receiver.shutdown()


if __name__ == "__main__":
    main()
