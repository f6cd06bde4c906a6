"""Reward-hacking probes and the audit that runs them against a spec."""
