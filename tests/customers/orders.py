"""The order book the customer corpus is written against: days are relative to the day the mail arrives.

(order, customer, shipped, delivered or None, method, boxes, part, qty, carrier status, ESD/MSL flag, value);
an order of several parts has one row per part, as the ERP exports it.
"""

ORDERS = [
    # Non-receipt, still within DHL Express's 5 regular shipping days.
    ("SO-510001", "amelia@example.net", -3, None, "DHL Express", 1, "LM2596S", 40, "In transit", "", "80.00"),
    # Non-receipt, far beyond the regular shipping days, never delivered.
    ("SO-510002", "bruno@example.de", -20, None, "DHL Express", 2, "NE555P", 200, "In transit", "", "60.00"),
    # Non-receipt, returned by the carrier: the customer gave a wrong address.
    ("SO-510003", "chloe@example.fr", -25, None, "UPS Standard", 1, "LM358N", 50, "Returned: wrong address", "",
     "45.00"),
    # Delivered 4 days ago in 3 boxes: missing items; or a customer saying it never came (the carrier says delivered).
    ("SO-510004", "diego@example.es", -8, -4, "DHL Express", 3, "LM2596S", 500, "Delivered", "", "900.00"),
    ("SO-510004", "diego@example.es", -8, -4, "DHL Express", 3, "NE555P", 100, "Delivered", "", "900.00"),
    # Delivered 2 days ago, one box: a return inside the 7-day window.
    ("SO-510005", "emma@example.com", -6, -2, "DHL Express", 1, "LM358N", 25, "Delivered", "", "30.00"),
    # Delivered 20 days ago, one box: a return outside the window; a quality claim inside the warranty.
    ("SO-510006", "felix@example.de", -30, -20, "DHL Express", 1, "IRF540N", 30, "Delivered", "", "40.00"),
    # Delivered 395 days ago: quality beyond the 365-day warranty.
    ("SO-510007", "gabriela@example.es", -400, -395, "UPS Standard", 1, "BC547", 1000, "Delivered", "", "25.00"),
    # Delivered 3 days ago in 2 boxes, with a moisture-sensitive part (ESD/MSL).
    ("SO-510008", "hugo@example.fr", -6, -3, "DHL Express", 2, "STM32F103C8T6", 50, "Delivered", "yes", "150.00"),
    ("SO-510008", "hugo@example.fr", -6, -3, "DHL Express", 2, "AMS1117-3.3", 200, "Delivered", "", "150.00"),
    # Delivered 60 days ago in 2 boxes: missing items reported late.
    ("SO-510009", "ines@example.es", -70, -60, "China Post", 2, "ATMEGA328P-PU", 20, "Delivered", "", "70.00"),
    # Delivered 2 days ago in one box: missing items from a single-box order.
    ("SO-510010", "jun@example.cn", -5, -2, "DHL Express", 1, "LM2596S", 500, "Delivered", "", "300.00"),
    ("SO-510010", "jun@example.cn", -5, -2, "DHL Express", 1, "1N4007", 1000, "Delivered", "", "300.00"),
    # Delivered 10 days ago in 4 boxes: missing items; a quality claim.
    ("SO-510011", "karl@example.de", -14, -10, "UPS Standard", 4, "ESP32-WROOM-32", 100, "Delivered", "", "600.00"),
    ("SO-510011", "karl@example.de", -14, -10, "UPS Standard", 4, "CH340G", 300, "Delivered", "", "600.00"),
    # Delivered 5 days ago, one box, a moisture-sensitive part only.
    ("SO-510012", "lucia@example.es", -9, -5, "DHL Express", 1, "MPU-6050", 40, "Delivered", "yes", "120.00"),
    # Delivered 1 day ago, 2 boxes.
    ("SO-510013", "mei@example.cn", -7, -1, "DHL Express", 2, "NE555P", 400, "Delivered", "", "90.00"),
    ("SO-510013", "mei@example.cn", -7, -1, "DHL Express", 2, "LM358N", 100, "Delivered", "", "90.00"),
]
