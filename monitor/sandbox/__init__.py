"""A local stand-in for the X, Graph and YouTube APIs, driven by a scenario (DESIGN section 8).

world = load_scenario("demo")
with SandboxServer(world) as sandbox:
    ...  # point platforms.<name>.base_url at sandbox.url
"""

from monitor.sandbox.client import SandboxClient
from monitor.sandbox.scenario import ScenarioError, World, builtin_scenarios, load_scenario, parse_scenario
from monitor.sandbox.server import SandboxServer

__all__ = [
    "SandboxClient",
    "SandboxServer",
    "ScenarioError",
    "World",
    "builtin_scenarios",
    "load_scenario",
    "parse_scenario",
]
