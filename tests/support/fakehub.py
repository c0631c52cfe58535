#!/usr/bin/env python3
"""Minimal stand-in for the Hugging Face Hub, for tests and benchmarks.

Serves on 127.0.0.1 only (HTTP/1.1, keep-alive, Content-Length always sent):

  GET      /api/models/ORG/NAME[/revision/REV]  model info JSON with siblings
  GET/HEAD /ORG/NAME/resolve/REV/PATH           regular file: 200 (+Range)
                                                LFS file: 302 -> /cdn/<sha256>
  GET/HEAD /cdn/<sha256>                        LFS content, one Range allowed
  GET      /_stats                              request/byte counters (JSON)
  GET      /_reset                              zero the counters

REV is "main" or the repo's commit sha. Repos listed with --gated need
"Authorization: Bearer TOKEN". --rate-limit-every N answers every Nth request
with 429; --drop-every N cuts every Nth large file body in half and closes the
connection; --hostile ORG/NAME=KIND makes one repository misbehave (HOSTILE_KINDS). After binding, "PORT <n>" is printed on stdout; the server exits
when its stdin reaches EOF, so it never outlives its parent.

Usage:
  python3 fakehub.py --repo ORG/NAME=DIR [--repo ...] [--gated ORG/NAME]
      [--token TOKEN] [--rate-limit-every N] [--drop-every N] [--port 0]
"""

import argparse
import hashlib
import json
import os
import socket
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CHUNK = 1 << 20
LFS_SUFFIXES = (".bin", ".safetensors", ".pt", ".pth", ".ckpt", ".pt2", ".h5",
                ".msgpack", ".onnx", ".gguf", ".npz")
LFS_MIN_SIZE = 10 * 1024 * 1024
MAX_RANGES = 10000


class FileEntry:
    def __init__(self, path, abspath, size, mtime):
        self.path = path          # repo-relative, '/' separated
        self.abspath = abspath
        self.size = size
        self.mtime = mtime
        self.lfs = path.lower().endswith(LFS_SUFFIXES) or size >= LFS_MIN_SIZE


class Repo:
    def __init__(self, name, directory):
        self.name = name
        self.files = {}
        root = os.path.abspath(directory)
        # os.walk does not descend into symlinked directories (followlinks=False).
        for dirpath, _dirs, names in os.walk(root):
            for n in names:
                full = os.path.join(dirpath, n)
                if not os.path.isfile(full):
                    continue
                st = os.stat(full)
                rel = os.path.relpath(full, root).replace(os.sep, "/")
                self.files[rel] = FileEntry(rel, full, st.st_size, st.st_mtime_ns)
        listing = sorted((p, e.size) for p, e in self.files.items())
        self.commit = hashlib.sha1(
            json.dumps([name, listing]).encode("utf-8")).hexdigest()

    def sorted_files(self):
        return [self.files[p] for p in sorted(self.files)]


class Hub:
    """All server state: repos, the lazy hash cache and the counters."""

    def __init__(self, args):
        self.repos = {}
        for spec in args.repo:
            name, sep, directory = spec.partition("=")
            if not sep or name.count("/") != 1 or not os.path.isdir(directory):
                sys.exit("fakehub: bad --repo %r (want ORG/NAME=DIR)" % spec)
            self.repos[name] = Repo(name, directory)
        self.gated = set(args.gated)
        # ORG/NAME -> how that repository misbehaves (--hostile ORG/NAME=KIND).
        self.hostile = {}
        for spec in args.hostile:
            name, sep, kind = spec.partition("=")
            if not sep or kind not in HOSTILE_KINDS:
                sys.exit("fakehub: bad --hostile %r (want ORG/NAME=%s)" % (spec, "|".join(HOSTILE_KINDS)))
            self.hostile[name] = kind
        self.token = args.token
        self.rate_limit_every = args.rate_limit_every
        self.drop_every = args.drop_every
        self.port = 0
        self.hash_lock = threading.Lock()
        self.hash_cache = {}      # (abspath, size, mtime) -> (blob sha1, sha256|None)
        self.cdn_index = {}       # sha256 -> [(Repo, FileEntry), ...]
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.requests = 0     # for --rate-limit-every
            self.big_bodies = 0   # for --drop-every
            self.stats = {"api": 0, "resolve": 0, "cdn": 0, "bytes": 0,
                          "ranges": [], "authorization_seen": False}

    def hashes(self, repo, entry):
        """(git blob sha1, sha256 or None), computed once and cached."""
        key = (entry.abspath, entry.size, entry.mtime)
        cached = self.hash_cache.get(key)
        if cached is not None:
            return cached
        with self.hash_lock:
            cached = self.hash_cache.get(key)
            if cached is None:
                blob = hashlib.sha1(b"blob %d\0" % entry.size)
                sha256 = hashlib.sha256() if entry.lfs else None
                with open(entry.abspath, "rb") as f:
                    while True:
                        chunk = f.read(CHUNK)
                        if not chunk:
                            break
                        blob.update(chunk)
                        if sha256 is not None:
                            sha256.update(chunk)
                cached = (blob.hexdigest(),
                          sha256.hexdigest() if sha256 is not None else None)
                self.hash_cache[key] = cached
                if cached[1] is not None:
                    self.cdn_index.setdefault(cached[1], []).append((repo, entry))
        return cached

    def cdn_lookup(self, sha):
        if sha not in self.cdn_index:
            # Hash every LFS file not hashed yet; this fills the index.
            for repo in self.repos.values():
                for entry in repo.sorted_files():
                    if entry.lfs:
                        self.hashes(repo, entry)
        return self.cdn_index.get(sha)


# How a --hostile repository misbehaves: a listing that is not JSON, a listing naming a
# file outside the repository, files served whole whatever Range asks for, and a listing
# that gives every file more bytes than it has.
HOSTILE_KINDS = ("garbage-listing", "escaping-names", "no-ranges", "lying-sizes")


def parse_range(header, size):
    """Return (start, end) inclusive, None to ignore the header, or 'bad' (416)."""
    if not header:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash:
        return None
    first, last = first.strip(), last.strip()
    try:
        if first == "":                       # suffix: bytes=-n
            n = int(last)
            if n <= 0 or size == 0:
                return "bad"
            return (max(0, size - n), size - 1)
        start = int(first)
        end = int(last) if last else size - 1
    except ValueError:
        return None
    if start < 0:
        return None
    if start >= size:
        return "bad"
    if end < start:
        return None
    return (start, min(end, size - 1))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fakehub/1.0"
    hub = None  # set in main()

    def log_message(self, *args):  # quiet
        pass

    def handle(self):
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True

    def do_GET(self):
        self.dispatch(head=False)

    def do_HEAD(self):
        self.dispatch(head=True)

    # ---- response helpers -------------------------------------------------

    def reply(self, code, body=b"", headers=(), head=False):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and not head:
            self.wfile.write(body)

    def reply_json(self, code, obj, headers=(), head=False):
        headers = [("Content-Type", "application/json")] + list(headers)
        self.reply(code, json.dumps(obj).encode("utf-8"), headers, head)

    def error(self, code, err_code, message, headers=(), head=False):
        self.reply_json(code, {"error": message},
                        [("X-Error-Code", err_code)] + list(headers), head)

    # ---- routing ----------------------------------------------------------

    def dispatch(self, head):
        hub = self.hub
        raw_path = self.path.split("?", 1)[0].split("#", 1)[0]
        if raw_path in ("/_stats", "/_reset"):
            if raw_path == "/_reset":
                hub.reset()
                return self.reply_json(200, {}, head=head)
            with hub.lock:
                snapshot = dict(hub.stats, ranges=list(hub.stats["ranges"]))
            return self.reply_json(200, snapshot, head=head)

        parts = [urllib.parse.unquote(p) for p in raw_path.split("/")[1:]]
        kind = None
        if len(parts) >= 4 and parts[0] == "api" and parts[1] == "models":
            kind = "api"
        elif len(parts) >= 2 and parts[0] == "cdn":
            kind = "cdn"
        elif len(parts) >= 4 and parts[2] == "resolve":
            kind = "resolve"

        rng = self.headers.get("Range")
        with hub.lock:
            hub.requests += 1
            limited = (hub.rate_limit_every > 0
                       and hub.requests % hub.rate_limit_every == 0)
            if kind:
                hub.stats[kind] += 1
                if rng is not None and kind in ("resolve", "cdn") and \
                        len(hub.stats["ranges"]) < MAX_RANGES:
                    hub.stats["ranges"].append(rng)
            if self.headers.get("Authorization") is not None:
                hub.stats["authorization_seen"] = True
        if limited:
            return self.reply_json(429, {"error": "Too many requests (fakehub)"},
                                   [("Retry-After", "0")], head)

        if kind == "api":
            return self.serve_api(parts[2:], head)
        if kind == "resolve":
            return self.serve_resolve(parts, head)
        if kind == "cdn":
            return self.serve_cdn(parts[1], head)
        self.error(404, "NotFound", "Not found", head=head)

    def authorized(self):
        auth = (self.headers.get("Authorization") or "").strip()
        return auth == "Bearer " + self.hub.token

    def check_gate(self, repo_name, head):
        """True if the request may proceed; otherwise a 401 was sent."""
        if repo_name in self.hub.gated and not self.authorized():
            self.error(401, "GatedRepo",
                       "Access to model %s is restricted. You must have access "
                       "to it and be authenticated to access it." % repo_name,
                       head=head)
            return False
        return True

    def find_repo(self, name, head):
        repo = self.hub.repos.get(name)
        if repo is None:
            self.error(404, "RepoNotFound", "Repository not found", head=head)
            return None
        if not self.check_gate(name, head):
            return None
        return repo

    def check_rev(self, repo, rev, head, headers=()):
        if rev in ("main", repo.commit):
            return True
        self.error(404, "RevisionNotFound", "Invalid rev id: %s" % rev,
                   headers, head)
        return False

    # ---- endpoints --------------------------------------------------------

    def serve_api(self, parts, head):
        # parts: [ORG, NAME] or [ORG, NAME, "revision", REV...]
        name = parts[0] + "/" + parts[1]
        repo = self.find_repo(name, head)
        if repo is None:
            return
        rest = parts[2:]
        if rest:
            if rest[0] != "revision" or len(rest) < 2:
                return self.error(404, "NotFound", "Not found", head=head)
            if not self.check_rev(repo, "/".join(rest[1:]), head):
                return
        hostile = self.hub.hostile.get(name)
        if hostile == "garbage-listing":
            return self.reply(200, b"<!DOCTYPE html><html><body>Sign in</body></html>",
                              [("Content-Type", "text/html")], head)
        extra = 1000 if hostile == "lying-sizes" else 0
        siblings = []
        for entry in repo.sorted_files():
            blob, sha256 = self.hub.hashes(repo, entry)
            sib = {"rfilename": entry.path, "size": entry.size + extra, "blobId": blob}
            if entry.lfs:
                sib["lfs"] = {"sha256": sha256, "size": entry.size + extra,
                              "pointerSize": 134}
            siblings.append(sib)
        if hostile == "escaping-names":
            siblings.append({"rfilename": "../../outside.bin", "size": 4, "blobId": "0" * 40})
        self.reply_json(200, {
            "id": name, "modelId": name, "sha": repo.commit, "private": False,
            "gated": "manual" if name in self.hub.gated else False,
            "siblings": siblings}, head=head)

    def serve_resolve(self, parts, head):
        # parts: [ORG, NAME, "resolve", REV, path...]
        name = parts[0] + "/" + parts[1]
        repo = self.find_repo(name, head)
        if repo is None:
            return
        commit_hdr = [("X-Repo-Commit", repo.commit)]
        if not self.check_rev(repo, parts[3], head, commit_hdr):
            return
        entry = repo.files.get("/".join(parts[4:]))
        if entry is None:
            return self.error(404, "EntryNotFound", "Entry not found",
                              commit_hdr, head)
        blob, sha256 = self.hub.hashes(repo, entry)
        etag = '"%s"' % blob
        if entry.lfs and self.hub.hostile.get(name) != "no-ranges":
            location = "http://127.0.0.1:%d/cdn/%s" % (self.hub.port, sha256)
            return self.reply(302, b"", commit_hdr + [
                ("Location", location), ("ETag", etag),
                ("X-Linked-Etag", '"%s"' % sha256),
                ("X-Linked-Size", str(entry.size))], head)
        self.send_file(entry, etag, commit_hdr, head, self.hub.hostile.get(name) == "no-ranges")

    def serve_cdn(self, sha, head):
        owners = self.hub.cdn_lookup(sha.lower())
        if not owners:
            return self.error(404, "EntryNotFound", "Entry not found", head=head)
        # Gated only when every repo holding this content is gated.
        open_owner = [o for o in owners if o[0].name not in self.hub.gated]
        if not open_owner and not self.check_gate(owners[0][0].name, head):
            return
        self.send_file(owners[0][1], '"%s"' % sha.lower(), [], head,
                       self.hub.hostile.get(owners[0][0].name) == "no-ranges")

    def send_file(self, entry, etag, headers, head, ignore_range=False):
        hub = self.hub
        size = entry.size
        headers = list(headers) + [("Accept-Ranges", "bytes"), ("ETag", etag)]
        rng = None if ignore_range else parse_range(self.headers.get("Range"), size)
        if rng == "bad":
            return self.reply(416, b"", headers +
                              [("Content-Range", "bytes */%d" % size)], head)
        if rng is None:
            code, start, length = 200, 0, size
        else:
            code, start, length = 206, rng[0], rng[1] - rng[0] + 1
            headers.append(("Content-Range",
                            "bytes %d-%d/%d" % (rng[0], rng[1], size)))
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length))
        self.end_headers()
        if head or length == 0:
            return

        drop = False
        if length > 1024 and hub.drop_every > 0:
            with hub.lock:
                hub.big_bodies += 1
                drop = hub.big_bodies % hub.drop_every == 0
        remaining = length // 2 if drop else length
        with open(entry.abspath, "rb") as f:
            f.seek(start)
            while remaining > 0:
                chunk = f.read(min(CHUNK, remaining))
                if not chunk:
                    break  # file shrank underneath us
                self.wfile.write(chunk)
                remaining -= len(chunk)
                with hub.lock:
                    hub.stats["bytes"] += len(chunk)
        if drop:
            self.close_connection = True
            self.wfile.flush()
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (BrokenPipeError, ConnectionResetError,
                            ConnectionAbortedError)):
            return
        super().handle_error(request, client_address)


def watch_stdin():
    """Exit the whole process once stdin hits EOF (parent went away)."""
    try:
        while os.read(0, 65536):
            pass
    except OSError:
        pass
    os._exit(0)


def main():
    ap = argparse.ArgumentParser(description="Fake Hugging Face Hub for tests.")
    ap.add_argument("--repo", action="append", default=[], required=True,
                    help="ORG/NAME=DIR, repeatable")
    ap.add_argument("--gated", action="append", default=[],
                    help="ORG/NAME needing a bearer token, repeatable")
    ap.add_argument("--token", default="hf_test_token")
    ap.add_argument("--hostile", action="append", default=[],
                    help="ORG/NAME=KIND, one of " + ", ".join(HOSTILE_KINDS))
    ap.add_argument("--rate-limit-every", type=int, default=0)
    ap.add_argument("--drop-every", type=int, default=0)
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()

    hub = Hub(args)
    Handler.hub = hub
    server = Server(("127.0.0.1", args.port), Handler)
    hub.port = server.server_address[1]
    sys.stdout.write("PORT %d\n" % hub.port)
    sys.stdout.flush()
    threading.Thread(target=watch_stdin, daemon=True).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
