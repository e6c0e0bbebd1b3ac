"""Portfolio construction (pure): the hedge level each day, then the target weights it implies.

``response`` turns trigger signals into a hedge level in [0, 1] (hold, step
in/out, release on de-escalation); ``weights`` turns the level into target
weights (base sleeve plus the hedge or tilt sleeve). No I/O, no backtrader.
"""
