"""The two invoice payloads of the connection page; tests/integration/test_docs.py validates each against its model."""

# --8<-- [start:doc]
# pii: issuedDate as YYYY-MM-DD, integers, items by position (VTEX's own reference payload)
PII_INVOICE = {
    "type": "Output",
    "invoiceNumber": "123456789",
    "invoiceValue": 2499,
    "issuedDate": "2020-07-15",
    "items": [{"itemIndex": 0, "price": 7497, "quantity": 3}],
    "extraValue": 100,
    "cfop": "6.104",
    "volumes": 3,
    "invoiceKey": "...",
    "invoiceUrl": "...",
    "courier": "...",
    "trackingNumber": "...",
    "trackingUrl": "...",
}

# standard: issuanceDate with date, time and offset; invoiceValue as digits; items by SKU id
STANDARD_INVOICE = {
    "type": "Output",
    "invoiceNumber": "NF-0001",
    "invoiceValue": "7497",
    "issuanceDate": "2024-01-31T18:25:43-03:00",
    "items": [{"id": "123", "price": 2499, "quantity": 3}],
}
# --8<-- [end:doc]
