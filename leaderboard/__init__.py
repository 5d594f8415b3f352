"""The MiSME challenge leaderboard, in rooms (lowest first; a room imports only its own
and lower ones, see tests/leaderboard/test_rooms.py):

errors <- challenge <- store <- scoring <- boards <- submissions <- app, cli
"""
