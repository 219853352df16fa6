"""How one sandbox behaves: a frozen set of options, never read from Django settings."""

from dataclasses import asdict, dataclass, fields

QUOTA_MODES = ("generous", "strict")


@dataclass(frozen=True)
class SandboxOptions:
    seed: int = 1
    owned: int = 0  # numbers owned at start (and after a reset)
    token_ttl: int = 3599  # seconds
    quota: str = "generous"  # or "strict"
    client_id: str = "numbers-portal-demo"
    client_secret: str = "sandbox-secret-change-me"  # noqa: S105 - the sandbox's public demo secret
    latency_ms: int = 0  # fixed extra delay on every API call (for benchmarks)

    def __post_init__(self):
        problems = option_problems(asdict(self))
        if problems:
            raise ValueError("; ".join(f"{name}: {why}" for name, why in problems.items()))

    def public(self) -> dict:
        """The options as shown by the control surface: everything but the secret."""
        shown = asdict(self)
        del shown["client_secret"]
        return shown


_INTEGERS = {"seed": None, "owned": 0, "token_ttl": 0, "latency_ms": 0}  # name -> minimum
# Beyond these the sandbox would only be slow to start or to answer, never more realistic.
_MAXIMA = {"owned": 1_000_000, "latency_ms": 60_000}
_STRINGS = ("client_id", "client_secret")


def option_problems(values: dict) -> dict[str, str]:
    """Field-keyed complaints about option values (an empty dict when they are all fine)."""
    known = {f.name for f in fields(SandboxOptions)}
    problems = {name: "Unknown option." for name in values if name not in known}
    for name, minimum in _INTEGERS.items():
        if name not in values:
            continue
        value = values[name]
        # bool is an int in Python, but `"owned": true` is surely a mistake.
        if not isinstance(value, int) or isinstance(value, bool):
            problems[name] = "Must be an integer."
        elif minimum is not None and value < minimum:
            problems[name] = f"Must be at least {minimum}."
        elif name in _MAXIMA and value > _MAXIMA[name]:
            problems[name] = f"Must be at most {_MAXIMA[name]}."
    for name in _STRINGS:
        if name in values and (not isinstance(values[name], str) or not values[name]):
            problems[name] = "Must be a non-empty string."
    if "quota" in values and values["quota"] not in QUOTA_MODES:
        problems["quota"] = f"Must be one of {', '.join(QUOTA_MODES)}."
    return problems
