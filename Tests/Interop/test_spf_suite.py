"""The openspf RFC 7208 test suite as converted for the Swift tests
(Tests/MailAuthTests/Fixtures/rfc7208-tests.json, by scripts/spf-testsuite-json), evaluated by
pyspf (PyPI) with the suite drivers' DNS rules. SPFTestSuiteTests runs our verifier over the same
file and expects the same results, so this shows the conversion kept every case and record: the
two evaluators agree on all 203 cases through it."""

import json
import os
import socket
import unittest

try:
    import spf
except ImportError:  # pragma: no cover - make test-deps installs it
    spf = None

FIXTURE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                       "MailAuthTests", "Fixtures", "rfc7208-tests.json")


def lookup_for(zone):
    """A replacement for spf.DNSLookup answering from one scenario's zone (testspf.py's rules)."""
    def lookup(name, qtype, strict=True, timeout=None, level=0):
        labels = [label for label in name.split(".") if label]
        if any(len(label) > 63 for label in labels):
            raise spf.TempError("DNS label too long")
        name = ".".join(labels).lower()
        out = []
        seen = False
        for entry in zone.get(name, []):
            if entry[0] == "TIMEOUT":
                if not seen:
                    raise spf.TempError("DNS timeout")
                break
            rtype, value = entry
            if rtype == qtype:
                seen = True
            if rtype == "AAAA":
                value = socket.inet_pton(socket.AF_INET6, value)
            elif rtype == "TXT":
                value = tuple(s.encode() for s in value)
            elif rtype == "MX":
                value = tuple(value)
            out.append(((name, rtype), value))
            if not level and rtype == "CNAME":
                out += lookup(value, qtype, strict, timeout, 1)
        return out
    return lookup


@unittest.skipIf(spf is None, "pyspf not installed")
class SPFSuiteTest(unittest.TestCase):
    def test_pyspf_passes_the_converted_suite(self):
        with open(FIXTURE) as f:
            scenarios = json.load(f)["scenarios"]
        original = spf.DNSLookup
        self.addCleanup(setattr, spf, "DNSLookup", original)
        failures, count = [], 0
        for scenario in scenarios:
            spf.DNSLookup = lookup_for(scenario["zone"])
            for t in scenario["tests"]:
                count += 1
                q = spf.query(i=t["host"], s=t["mailfrom"], h=t["helo"], strict=True)
                result, _, explanation = q.check()
                if result not in t["results"]:
                    failures.append(f"{t['name']}: {result}, expected {t['results']}")
                elif t["explanation"] and t["explanation"] != "DEFAULT" and result == "fail" \
                        and explanation != t["explanation"]:
                    failures.append(f"{t['name']}: explanation {explanation!r}, expected {t['explanation']!r}")
        self.assertEqual(count, 203)
        self.assertEqual(failures, [], "\n".join(failures))


if __name__ == "__main__":
    unittest.main()
