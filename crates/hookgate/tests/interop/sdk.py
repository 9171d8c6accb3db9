"""Drives the providers' official Python SDKs for crates/hookgate/tests/interop.rs.

    sdk.py SDK sign   --secret S --body-file F [--url URL] [--timestamp UNIX] [--id ID]
    sdk.py SDK verify --secret S [--secret S2] --body-file F [--url URL] [--header 'Name: value']...

SDK is stripe, standardwebhooks, svix, slack or twilio. `sign` prints the headers the provider
would send, one 'Name: value' per line. `verify` exits 0 when the SDK accepts the request and 1
when the SDK rejects it (its reason on stderr); any other exit (2 for bad arguments, 3 for an
unexpected exception) is a broken driver, never a verdict, so a test cannot mistake a crash for
a rejection.

Only public SDK functions are called, the ones an application would use; the SDK is imported
lazily because stripe and svix take over a second each to import. Run it with the interpreter
of target/interop/venv (crates/hookgate/tests/interop/setup.sh builds it). The SDKs that check
timestamps do so against the real clock, so headers given to `verify` must be recent.
"""

import argparse
import sys
import traceback
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlparse


class Rejected(Exception):
    """The SDK said no: exit 1."""


def parse_headers(lines):
    headers = {}
    for line in lines:
        name, sep, value = line.partition(":")
        if not sep:
            raise SystemExit(f"sdk.py: header {line!r} is not 'Name: value'")
        headers[name.strip()] = value.strip()
    return headers


def header(headers, name):
    """A header by case-insensitive name, as a web framework would hand it over."""
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None


def one_secret(args):
    if len(args.secret) != 1:
        raise SystemExit(f"sdk.py: {args.sdk} takes exactly one --secret")
    return args.secret[0]


# --- Stripe: stripe.WebhookSignature.generate_signature_header / stripe.Webhook.construct_event


def stripe_sign(args, body):
    import stripe

    header_value = stripe.WebhookSignature.generate_signature_header(
        body.decode("utf-8"), one_secret(args), timestamp=args.timestamp
    )
    return [("Stripe-Signature", header_value)]


def stripe_verify(args, body, headers):
    import stripe

    try:
        # construct_event verifies (default tolerance 300 s) and then parses the event.
        stripe.Webhook.construct_event(body, header(headers, "Stripe-Signature"), one_secret(args))
    except stripe.SignatureVerificationError as e:
        raise Rejected(f"stripe: {e.user_message or e}") from e


# --- Standard Webhooks and Svix: Webhook(secret).sign(msg_id, timestamp, payload) / .verify


def standard_sign(webhook_class, prefix, args, body):
    webhook = webhook_class(one_secret(args))
    timestamp = datetime.fromtimestamp(args.timestamp, tz=timezone.utc)
    signature = webhook.sign(args.id, timestamp, body)
    return [
        (f"{prefix}-id", args.id),
        (f"{prefix}-timestamp", str(args.timestamp)),
        (f"{prefix}-signature", signature),
    ]


def standardwebhooks_sign(args, body):
    import standardwebhooks

    return standard_sign(standardwebhooks.Webhook, "webhook", args, body)


def standardwebhooks_verify(args, body, headers):
    import standardwebhooks

    try:
        standardwebhooks.Webhook(one_secret(args)).verify(body, headers)
    except standardwebhooks.WebhookVerificationError as e:
        raise Rejected(f"standardwebhooks: {e}") from e


def svix_sign(args, body):
    from svix.webhooks import Webhook

    # svix's sign is typed for str; it signs the UTF-8 encoding, the same bytes.
    return standard_sign(Webhook, "svix", args, body)


def svix_verify(args, body, headers):
    from svix.webhooks import Webhook, WebhookVerificationError

    try:
        Webhook(one_secret(args)).verify(body, headers)
    except WebhookVerificationError as e:
        raise Rejected(f"svix: {e}") from e


# --- Slack: slack_sdk.signature.SignatureVerifier (generate_signature / is_valid_request)


def slack_sign(args, body):
    from slack_sdk.signature import SignatureVerifier

    timestamp = str(args.timestamp)
    signature = SignatureVerifier(one_secret(args)).generate_signature(timestamp=timestamp, body=body)
    return [("X-Slack-Request-Timestamp", timestamp), ("X-Slack-Signature", signature)]


def slack_verify(args, body, headers):
    from slack_sdk.signature import SignatureVerifier

    if not SignatureVerifier(one_secret(args)).is_valid_request(body, headers):
        raise Rejected("slack: is_valid_request returned False")


# --- Twilio: twilio.request_validator.RequestValidator (compute_signature / validate)


class FormParams(dict):
    """Form parameters as Django's QueryDict gives them: every value of a repeated name
    (RequestValidator.get_values asks for getlist)."""

    def getlist(self, name):
        return self[name]


def twilio_params(url, body):
    """What an application hands RequestValidator: the raw body text when Twilio put its hash
    in the URL's bodySHA256 (JSON bodies), else the parsed form parameters."""
    if "bodySHA256" in parse_qs(urlparse(url).query):
        return body.decode("utf-8")
    return FormParams(parse_qs(body.decode("utf-8"), keep_blank_values=True))


def twilio_sign(args, body):
    from twilio.request_validator import RequestValidator

    params = twilio_params(args.url, body)
    # As Twilio does for JSON: the URL (already carrying bodySHA256) is all that is signed.
    signed_params = {} if isinstance(params, str) else params
    signature = RequestValidator(one_secret(args)).compute_signature(args.url, signed_params)
    return [("X-Twilio-Signature", signature)]


def twilio_verify(args, body, headers):
    from twilio.request_validator import RequestValidator

    signature = header(headers, "X-Twilio-Signature")
    if signature is None:
        raise Rejected("twilio: no X-Twilio-Signature header")
    params = twilio_params(args.url, body)
    if not RequestValidator(one_secret(args)).validate(args.url, params, signature):
        raise Rejected("twilio: validate returned False")


SDKS = {
    "stripe": (stripe_sign, stripe_verify),
    "standardwebhooks": (standardwebhooks_sign, standardwebhooks_verify),
    "svix": (svix_sign, svix_verify),
    "slack": (slack_sign, slack_verify),
    "twilio": (twilio_sign, twilio_verify),
}


def main():
    parser = argparse.ArgumentParser(prog="sdk.py")
    parser.add_argument("sdk", choices=sorted(SDKS))
    parser.add_argument("action", choices=["sign", "verify"])
    parser.add_argument("--secret", action="append", required=True)
    parser.add_argument("--body-file", required=True)
    parser.add_argument("--url", default="https://example.com/")
    parser.add_argument("--timestamp", type=int)
    parser.add_argument("--id", default="msg_interop")
    parser.add_argument("--header", action="append", default=[])
    args = parser.parse_args()
    with open(args.body_file, "rb") as f:
        body = f.read()
    sign, verify = SDKS[args.sdk]
    if args.action == "sign":
        if args.timestamp is None:
            parser.error("sign needs --timestamp")
        for name, value in sign(args, body):
            print(f"{name}: {value}")
        return 0
    try:
        verify(args, body, parse_headers(args.header))
    except Rejected as e:
        print(f"rejected: {e}", file=sys.stderr)
        return 1
    print(f"valid: {args.sdk} accepts the request")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:  # a broken driver, not a verdict: keep it apart from exit 1
        traceback.print_exc()
        sys.exit(3)
