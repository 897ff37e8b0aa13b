"""Messages quoted in the seed document and in reference/tradovate.md, byte for byte.

Where the documents show a template (``"reasonCode": "Maintenance" | ...``) or JavaScript
rather than JSON, the concrete message below fills it in and says so.
"""

from __future__ import annotations

# Seed, "Decoding Server Frames"
CONTRACT_RESPONSE = 'a[{"s":200,"i":23,"d":{"id":65543,"name":"CLZ6","contractMaturityId":6727}}]'
PROPS_CREATED = (
    'a[{"e":"props","d":{"entityType":"order","eventType":"Created","entity":{"id":210518,'
    '"accountId":25,"contractId":560901,"timestamp":"2016-11-04T00:02:36.626Z","action":"Sell",'
    '"ordStatus":"PendingNew","admin":false}}}]'
)
# Seed, "Client Response Message" (pretty-printed there)
RESPONSE_26 = '{"i":26,"s":200,"d":{"id":478866,"name":"6EZ6","contractMaturityId":23574}}'
# Seed, "md" event (pretty-printed there)
MD_QUOTES = (
    '{"e":"md","d":{"quotes":[{"timestamp":"2021-04-13T04:59:06.588Z","contractId":123456,'
    '"entries":{"Bid":{"price":18405.123,"size":7.123},"TotalTradeVolume":{"size":4118.123},'
    '"Offer":{"price":18410.012,"size":12.35},"LowPrice":{"price":18355.23},'
    '"Trade":{"price":18405.023,"size":2.10},"OpenInterest":{"size":40702.024},'
    '"OpeningPrice":{"price":18515.123},"HighPrice":{"price":18520.125},'
    '"SettlementPrice":{"price":18520.257}}}]}}'
)
# Seed, "clock" event: "d" is JSON inside a string
CLOCK = '{"e":"clock","d":"{\\"t\\":\\"2019-08-26T16:43:08.599Z\\",\\"s\\":20}"}'
# Seed, "shutdown": the document shows a template; one concrete instance of it
SHUTDOWN = '{"e":"shutdown","d":{"reasonCode":"Maintenance","reason":"Scheduled maintenance"}}'
SHUTDOWN_NO_REASON = '{"e":"shutdown","d":{"reasonCode":"ConnectionQuotaReached"}}'
# Seed, close frame
CLOSE_FRAME = 'c[3000,"Go away!"]'

# Reference §2: authorize success, and failures
AUTHORIZE_OK = 'a[{"s":200,"i":2}]'
AUTHORIZE_INVALID = '{"i": 0, "s": 401, "d": "Invalid access token"}'
ACCESS_DENIED_TWICE_ENCODED = 'a[{"s":401,"i":1,"d":"\\"Access is denied\\""}]'
# Reference §2 / §8: errors
NO_USABLE_VALUE = (
    'a[{"s":400,"i":3,"d":"No usable value for symbol\\nDid not find value which can be '
    'converted into java.lang.String"}]'
)
NOT_FOUND_TWICE_ENCODED = 'a[{"s":404,"i":1,"d":"\\"Not found: quote/subscribe\\""}]'
# Reference §4.2 chart bars (pretty-printed there)
CHART_BARS = (
    '{"e":"chart","d":{"charts":[{"id":9,"td":20170413,"bars":[{"timestamp":"2017-04-13T11:00:00.000Z",'
    '"open":2334.25,"high":2334.5,"low":2333,"close":2333.75,"upVolume":4712,"downVolume":201,'
    '"upTicks":1333,"downTicks":82,"bidVolume":2857,"offerVolume":2056}]}]}}'
)
# Reference §5.4: getChart response
GET_CHART_RESPONSE = '{ "s":200, "i":13, "d":{ "historicalId":32, "realtimeId":31 } }'
# Reference §5.5: a tick packet (comments removed, one tick) and the end-of-history marker
TICK_PACKET = (
    '{"id":16335,"s":"db","td":20190718,"bp":11917,"bt":1563421179735,"ts":0.25,'
    '"tks":[{"t":0,"p":0,"s":3,"b":-1,"a":0,"bs":122,"as":28,"id":11768401}]}'
)
END_OF_HISTORY = '{ "id": 16335, "eoh": true }'
# Reference §5.2 DOM and §5.3 histogram ("..." in the document's arrays left out)
DOM = (
    '{"e":"md","d":{"doms":[{"contractId":123456,"timestamp":"2017-04-13T11:33:57.488Z",'
    '"bids":[{"price":2335.25,"size":33},{"price":2333,"size":758}],'
    '"offers":[{"price":2335.5,"size":255},{"price":2337.75,"size":466}]}]}}'
)
HISTOGRAM = (
    '{"e":"md","d":{"histograms":[{"contractId":123456,"timestamp":"2017-04-13T11:33:57.412Z",'
    '"tradeDate":{"year":2017,"month":4,"day":13},"base":2338.75,'
    '"items":{"-14":5906,"2":1234},"refresh":false}]}}'
)
# Reference §7.2: a penalty (fields documented, values chosen)
PENALTY = '{"s":200,"i":5,"d":{"p-ticket":"6jKWnUHsdP","p-time":15,"p-captcha":false}}'

# Request documents, verbatim (seed "Request Examples", reference §2 and §5.4)
REQUEST_NO_QUERY_NO_BODY = "executionReport/list\n4\n\n"
REQUEST_WITH_QUERY = "tradingPermission/ldeps\n8\nmasterids=1"
REQUEST_WITH_BODY = 'contract/rollcontract\n33\n\n{"name":"YMZ6","forward":true,"ifExpired":true}'
AUTHORIZE_REQUEST = (
    "authorize\n2\n\nuST01MhJMF3cR3lCs-gdQ9W0AzomYLaqsWcZ_GYgAspPRf-ZS-Wb7q3sW3pUafTm90ba4"
)
GET_CHART_REQUEST = (
    'md/getchart\n0\n\n{"symbol":"ESZ4","chartDescription":{"underlyingType":"MinuteBar",'
    '"elementSize":1,"elementSizeUnit":"UnderlyingUnits","withHistogram":false},'
    '"timeRange":{"asMuchAsElements":100}}'
)
