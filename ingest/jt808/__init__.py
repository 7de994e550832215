"""JT/T 808 (2011/2013/2019) gateway: framing, decoding, sessions and the 苏标 attachment server."""
