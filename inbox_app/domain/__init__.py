"""Pure types and rules shared by relay and client."""
