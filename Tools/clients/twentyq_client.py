"""A client for `twentyq serve`, Python standard library only (docs/SERVE.md quotes it).

    python3 Tools/clients/twentyq_client.py http://127.0.0.1:8080 [TOKEN]

creates an index "demo", adds three documents, searches it, and deletes it.
"""
import json
import sys
import urllib.error
import urllib.request


class TwentyQError(Exception):
    def __init__(self, status, code, message):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class TwentyQ:
    def __init__(self, base, token=None):
        self.base, self.token = base.rstrip("/"), token

    def call(self, method, path, body=None):
        request = urllib.request.Request(self.base + path, method=method,
                                         data=None if body is None else json.dumps(body).encode())
        request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", "Bearer " + self.token)
        try:
            with urllib.request.urlopen(request) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            detail = json.load(error).get("error", {})
            raise TwentyQError(error.code, detail.get("code"), detail.get("message")) from None

    def create(self, name, kind="documents", **settings):
        return self.call("PUT", f"/v1/indexes/{name}", {"kind": kind, **settings})

    def add(self, name, documents):
        return self.call("POST", f"/v1/indexes/{name}/documents", {"documents": documents})

    def search(self, name, text, k=10, **options):
        return self.call("POST", f"/v1/indexes/{name}/search", {"text": text, "k": k, **options})["results"]

    def delete(self, name):
        return self.call("DELETE", f"/v1/indexes/{name}")


if __name__ == "__main__":
    client = TwentyQ(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
    client.create("demo")
    print(client.add("demo", [
        {"id": "shuttle", "text": "NASA launched the space shuttle into orbit.", "fields": {"title": "Launch"}},
        {"id": "hockey", "text": "The hockey team won the game in overtime."},
        {"id": "choir", "text": "The church choir sang hymns on Sunday."},
    ]))
    for hit in client.search("demo", "space launch", k=2):
        print(hit["id"], hit["distance"], hit["fields"].get("title", ""))
    try:
        client.search("demo", "x", k=0)
    except TwentyQError as error:
        print(error.status, error.code)
    client.delete("demo")
