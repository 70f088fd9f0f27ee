"""One router per resource; each route parses, authorises, calls one service method, answers."""
