"""The send-time stages: each a pure decision with `now` passed in, returning a Reason or None."""
