"""What a call achieved: the coded outcomes, which events the hub avoided (one pure
function), re-presentations that take an avoided event back, and the tariffs that price
what was avoided.
"""
