"""A small SCRAM client (RFC 5802, RFC 7677) for the interop tests, with optional channel binding.

Only the standard library: hashlib, hmac, base64. Channel binding is "tls-server-end-point" (RFC 5929):
the hash of the server's DER certificate, SHA-256 unless the certificate is signed with a stronger hash.

    c = ScramClient("sha256", "mox@localhost", "moxmoxmox", cbind=tls_server_end_point(der))
    first = c.client_first()            # bytes, to send base64-encoded
    final = c.client_final(server_first) # server_first: the decoded bytes of the server's challenge
    c.verify_server_final(server_final)  # raises ScramError when the server's signature is wrong
"""

import base64
import hashlib
import hmac
import os

__all__ = ["ScramClient", "ScramError", "tls_server_end_point", "mechanism_name"]


class ScramError(Exception):
    pass


def tls_server_end_point(der_cert):
    """Channel binding data for "tls-server-end-point" (RFC 5929 section 4.1).

    The certificate's signature hash is used, except that MD5 and SHA-1 become SHA-256. The certificates
    these tests meet are signed with ECDSA or RSA and SHA-256 or stronger; without an ASN.1 parser we look
    for the OIDs of the SHA-384/SHA-512 signature algorithms in the DER and otherwise use SHA-256.
    """
    sha384_oids = [
        bytes.fromhex("06082a8648ce3d040303"),  # ecdsa-with-SHA384
        bytes.fromhex("06092a864886f70d01010c"),  # sha384WithRSAEncryption
    ]
    sha512_oids = [
        bytes.fromhex("06082a8648ce3d040304"),  # ecdsa-with-SHA512
        bytes.fromhex("06092a864886f70d01010d"),  # sha512WithRSAEncryption
    ]
    # The signature algorithm is repeated after the TBSCertificate; its last occurrence decides.
    def last(oids):
        return max((der_cert.rfind(o) for o in oids), default=-1)

    pos = {"sha256": -1, "sha384": last(sha384_oids), "sha512": last(sha512_oids)}
    name = max(pos, key=lambda k: pos[k]) if max(pos.values()) >= 0 else "sha256"
    return hashlib.new(name, der_cert).digest()


def mechanism_name(hash_name, plus=False):
    base = {"sha1": "SCRAM-SHA-1", "sha256": "SCRAM-SHA-256"}[hash_name]
    return base + ("-PLUS" if plus else "")


def _saslname(name):
    return name.replace("=", "=3D").replace(",", "=2C")


def _parse(msg):
    attrs = {}
    for part in msg.split(","):
        if len(part) < 2 or part[1] != "=":
            raise ScramError(f"malformed SCRAM attribute {part!r} in {msg!r}")
        attrs.setdefault(part[0], part[2:])
    return attrs


class ScramClient:
    def __init__(self, hash_name, username, password, cbind=None, cbind_type="tls-server-end-point", nonce=None,
                 client_supports_cbind=False):
        """hash_name: "sha1" or "sha256". cbind: channel binding data (bytes) for a -PLUS mechanism, or None.

        client_supports_cbind (without cbind): send the gs2 flag "y" (client could bind but thinks the
        server cannot); a server that does offer channel binding must then fail the exchange.
        """
        self.hash_name = hash_name
        self.username = username
        self.password = password
        self.cbind = cbind
        self.cbind_type = cbind_type
        self.nonce = nonce or base64.b64encode(os.urandom(18)).decode("ascii")
        if cbind is None:
            self.gs2_header = "y,," if client_supports_cbind else "n,,"
        else:
            self.gs2_header = f"p={cbind_type},,"
        self.client_first_bare = f"n={_saslname(username)},r={self.nonce}"
        self.server_signature = None

    def _h(self, data):
        return hashlib.new(self.hash_name, data).digest()

    def _hmac(self, key, data):
        return hmac.new(key, data, self.hash_name).digest()

    def client_first(self):
        return (self.gs2_header + self.client_first_bare).encode("utf-8")

    def client_final(self, server_first):
        if isinstance(server_first, bytes):
            server_first = server_first.decode("utf-8")
        attrs = _parse(server_first)
        if "e" in attrs:
            raise ScramError(f"server error: {attrs['e']}")
        nonce, salt, iterations = attrs.get("r"), attrs.get("s"), attrs.get("i")
        if not nonce or salt is None or not iterations:
            raise ScramError(f"server-first-message misses r, s or i: {server_first!r}")
        if not nonce.startswith(self.nonce) or len(nonce) == len(self.nonce):
            raise ScramError(f"server nonce {nonce!r} does not extend client nonce {self.nonce!r}")
        salt = base64.b64decode(salt, validate=True)
        iterations = int(iterations)

        cbind_input = self.gs2_header.encode("utf-8") + (self.cbind or b"")
        without_proof = f"c={base64.b64encode(cbind_input).decode('ascii')},r={nonce}"
        auth_message = f"{self.client_first_bare},{server_first},{without_proof}".encode("utf-8")

        salted = hashlib.pbkdf2_hmac(self.hash_name, self.password.encode("utf-8"), salt, iterations)
        client_key = self._hmac(salted, b"Client Key")
        stored_key = self._h(client_key)
        client_signature = self._hmac(stored_key, auth_message)
        proof = bytes(a ^ b for a, b in zip(client_key, client_signature))
        server_key = self._hmac(salted, b"Server Key")
        self.server_signature = self._hmac(server_key, auth_message)
        return f"{without_proof},p={base64.b64encode(proof).decode('ascii')}".encode("utf-8")

    def verify_server_final(self, server_final):
        if isinstance(server_final, bytes):
            server_final = server_final.decode("utf-8")
        attrs = _parse(server_final)
        if "e" in attrs:
            raise ScramError(f"server error: {attrs['e']}")
        if "v" not in attrs:
            raise ScramError(f"server-final-message without v: {server_final!r}")
        if not hmac.compare_digest(base64.b64decode(attrs["v"], validate=True), self.server_signature):
            raise ScramError("server signature does not verify")
