"""Adapters that hand a spec to RL trainers other than TRL (veRL, OpenRLHF), each in its own module.

Nothing here imports a trainer: each module speaks the trainer's calling convention with plain Python.
"""

__all__: list[str] = []
