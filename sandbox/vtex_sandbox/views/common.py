"""Parts of an order that both route sets show alike: totals, people, addresses, payment, shipping.

The sandbox plays a small Brazilian store (as VTEX's examples do). Values that the sandbox does not
model (addresses, payment details) are plausible fixed fakes: ``example.com`` and ``sandbox.invalid``
are reserved names that never reach anyone.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vtex_sandbox.model import STATUS_DESCRIPTIONS

if TYPE_CHECKING:
    from vtex_sandbox.model import Order, OrderItem, Package

STORE = "sandbox"
SELLER_NAME = "Sandbox Store"
CURRENCY = {"countryCode": "BRA", "currencyCode": "BRL", "currencySymbol": "R$", "currencyLocale": 1046}
_CURRENCY_FORMAT = {
    "CurrencyDecimalDigits": 2,
    "CurrencyDecimalSeparator": ",",
    "CurrencyGroupSeparator": ".",
    "CurrencyGroupSize": 3,
    "StartsWithCurrencySymbol": True,
}
_TIME_ZONE = "E. South America Standard Time"


@dataclass(frozen=True)
class Visible:
    """What a read shows of an order now: OMS is eventually consistent, so a package and the
    ``invoiced`` status it caused stay hidden until their visibility time (``hide_recent``)."""

    status: str
    invoiced_date: str | None
    packages: tuple[Package, ...]

    @classmethod
    def of(cls, order: Order, now: float, *, hide_recent: bool) -> Visible:
        status, invoiced_date = order.status, order.invoiced_date
        if (
            hide_recent
            and order.invoiced_visible_at is not None
            and now < order.invoiced_visible_at
            and order.status_before_invoiced is not None
            and order.status == "invoiced"
        ):
            status, invoiced_date = order.status_before_invoiced, None
        packages = tuple(p for p in order.packages.values() if not hide_recent or now >= p.visible_at)
        return cls(status, invoiced_date, packages)

    @property
    def description(self) -> str:
        return STATUS_DESCRIPTIONS[self.status]


def stable_id(*parts: str) -> str:
    """A 32-hex id derived from ``parts``: the same order always shows the same ids."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:32]


def order_group(order: Order) -> str:
    return order.order_id.rsplit("-", 1)[0]


def first_last(name: str) -> tuple[str, str]:
    first, _, last = name.partition(" ")
    return first, last or "Silva"


def totals(order: Order) -> list[dict[str, Any]]:
    return [
        {"id": "Items", "name": "Total dos Itens", "value": order.items_total, "alternativeTotals": None},
        {
            "id": "Discounts",
            "name": "Total dos Descontos",
            "value": order.discounts,
            "alternativeTotals": None,
        },
        {
            "id": "Shipping",
            "name": "Total do Frete",
            "value": order.shipping_value,
            "alternativeTotals": None,
        },
        {"id": "Tax", "name": "Total da Taxa", "value": 0, "alternativeTotals": None},
    ]


def sellers() -> list[dict[str, Any]]:
    return [
        {
            "id": "1",
            "name": SELLER_NAME,
            "logo": None,
            "fulfillmentEndpoint": "https://sandbox.invalid/api/fulfillment?an=sandbox",
            "subSellerId": "",
        }
    ]


def store_preferences() -> dict[str, Any]:
    return {
        "countryCode": CURRENCY["countryCode"],
        "currencyCode": CURRENCY["currencyCode"],
        "currencyFormatInfo": dict(_CURRENCY_FORMAT),
        "currencyLocale": CURRENCY["currencyLocale"],
        "currencySymbol": CURRENCY["currencySymbol"],
        "timeZone": _TIME_ZONE,
    }


def client_profile(order: Order, *, masked: bool) -> dict[str, Any]:
    first, last = first_last(order.client_name)
    document, phone = "12345678909", "+5521987654321"
    email = order.client_email
    if masked:
        last, document, phone, email = mask(last), mask(document), mask(phone), mask_email(email)
    return {
        "id": "clientProfileData",
        "email": email,
        "firstName": first,
        "lastName": last,
        "documentType": "cpf",
        "document": document,
        "phone": phone,
        "corporateName": None,
        "tradeName": None,
        "corporateDocument": None,
        "stateInscription": None,
        "corporatePhone": None,
        "isCorporate": False,
        "userProfileId": stable_id(order.client_email, "profile"),
        "userProfileVersion": None,
        "customerClass": None,
        "customerCode": None,
    }


def mask(text: str) -> str:
    """VTEX-style masking of personal data: first and last character kept."""
    if len(text) <= 2:
        return "*" * len(text)
    return text[0] + "*" * (len(text) - 2) + text[-1]


def mask_email(email: str) -> str:
    user, _, domain = email.partition("@")
    return f"{mask(user)}@{mask(domain)}"


def address(order: Order, *, masked: bool) -> dict[str, Any]:
    receiver, street, number = order.client_name, "Rua das Laranjeiras", "100"
    if masked:
        receiver, street, number = mask(receiver), mask(street), mask(number)
    return {
        "addressType": "residential",
        "receiverName": receiver,
        "addressId": stable_id(order.order_id, "address")[:12],
        "versionId": None,
        "entityId": None,
        "postalCode": "22240-000",
        "city": "Rio de Janeiro",
        "state": "RJ",
        "country": "BRA",
        "street": street,
        "number": number,
        "neighborhood": "Laranjeiras",
        "complement": "",
        "reference": None,
        "geoCoordinates": [-43.18, -22.93],
        "contactId": None,
    }


def delivery_ids(item: OrderItem) -> list[dict[str, Any]]:
    return [
        {
            "courierId": "1",
            "courierName": "Transportadora Sandbox",
            "dockId": "1",
            "quantity": item.quantity,
            "warehouseId": "1_1",
            "accountCarrierName": STORE,
            "kitItemDetails": [],
            "totalListPrice": None,
        }
    ]


def pickup_store_info() -> dict[str, Any]:
    return {
        "additionalInfo": None,
        "address": None,
        "dockId": None,
        "friendlyName": None,
        "isPickupStore": False,
    }


def logistics_info(order: Order, index: int, item: OrderItem) -> dict[str, Any]:
    """One ``shippingData.logisticsInfo`` entry: the item goes by the one normal delivery SLA."""
    share = order.shipping_value // len(order.items) if order.items else 0
    estimate_date = order.creation_date  # the sandbox does not model delivery estimates
    sla = {
        "id": "Normal",
        "name": "Normal",
        "shippingEstimate": "5bd",
        "shippingEstimateDate": estimate_date,
        "deliveryWindow": None,
        "availableDeliveryWindows": [],
        "price": share,
        "listPrice": share,
        "tax": 0,
        "deliveryChannel": "delivery",
        "selectedDeliveryChannel": "delivery",
        "pickupStoreInfo": pickup_store_info(),
        "polygonName": None,
        "lockTTL": "10d",
        "pickupPointId": "",
        "transitTime": "3bd",
        "pickupDistance": 0.0,
        "deliveryIds": delivery_ids(item),
    }
    return {
        "itemIndex": index,
        "itemId": str(index),
        "selectedSla": "Normal",
        "lockTTL": "10d",
        "price": share,
        "listPrice": share,
        "sellingPrice": share,
        "deliveryWindow": None,
        "deliveryCompany": "Transportadora Sandbox",
        "shippingEstimate": "5bd",
        "shippingEstimateDate": estimate_date,
        "slas": [sla],
        "shipsTo": ["BRA"],
        "deliveryIds": delivery_ids(item),
        "deliveryChannels": [{"id": "delivery", "stockBalance": 0}],
        "deliveryChannel": "delivery",
        "selectedDeliveryChannel": "delivery",
        "pickupStoreInfo": pickup_store_info(),
        "addressId": None,
        "versionId": None,
        "entityId": None,
        "polygonName": None,
        "pickupPointId": None,
        "transitTime": "3bd",
    }


def tracking_hints(packages: tuple[Package, ...]) -> list[dict[str, Any]]:
    return [
        {
            "trackingId": p.tracking_number or "",
            "courierName": p.courier or "",
            "trackingUrl": p.tracking_url or "",
            "trackingLabel": "",
        }
        for p in packages
        if p.tracking_number
    ]


def order_payment_id(order: Order) -> str:
    """The id of the order's one payment: the one set for it, else derived from the order id."""
    return order.payment_id or stable_id(order.order_id, "payment").upper()


def payment(order: Order) -> dict[str, Any]:
    """One approved credit-card payment of the whole order value."""
    payment_id = order_payment_id(order)
    tid = stable_id(order.order_id, "tid")[:16].upper()
    return {
        "id": payment_id,
        "paymentSystem": "2",
        "paymentSystemName": "Visa",
        "value": order.value,
        "installments": 1,
        "referenceValue": order.value,
        "cardHolder": None,
        "cardNumber": None,
        "firstDigits": "411111",
        "lastDigits": "1111",
        "cvv2": None,
        "expireMonth": None,
        "expireYear": None,
        "url": None,
        "giftCardId": None,
        "giftCardName": None,
        "giftCardCaption": None,
        "redemptionCode": None,
        "group": "creditCard",
        "tid": tid,
        "dueDate": None,
        "connectorResponses": {
            "Message": "Approved",
            "tid": tid,
            "authorizationId": "123456",
            "status": "approved",
            "delayToAutoSettle": 432000,
            "ReturnCode": None,
            "nsu": "000123",
            "code": "00",
            "message": "Approved",
            "Tid": tid,
            "acquirer": "SandboxAcquirer",
            "authId": "123456",
            "paymentId": payment_id,
            "delayToAutoSettleAfterAntifraud": "0",
        },
        "giftCardProvider": None,
        "giftCardAsDiscount": None,
        "isGiftCardDiscount": None,
        "koinUrl": None,
        "accountId": "",
        "parentAccountId": None,
        "bankIssuedInvoiceIdentificationNumber": None,
        "bankIssuedInvoiceIdentificationNumberFormatted": None,
        "bankIssuedInvoiceBarCodeNumber": None,
        "bankIssuedInvoiceBarCodeType": None,
        "billingAddress": None,
        "paymentOrigin": None,
    }


def payment_data(order: Order) -> dict[str, Any]:
    transaction = stable_id(order.order_id, "transaction").upper()
    return {
        "giftCards": [],
        "transactions": [
            {
                "isActive": True,
                "transactionId": transaction,
                "merchantName": STORE.upper(),
                "payments": [payment(order)],
                "sharedTransaction": False,
                "status": "Finished",
            }
        ],
    }


def item_additional_info(item: OrderItem) -> dict[str, Any]:
    return {
        "brandName": "Sandbox",
        "brandId": "2000000",
        "categoriesIds": "/1/",
        "categories": [{"id": 1, "name": "Sandbox"}],
        "productClusterId": "",
        "commercialConditionId": "1",
        "dimension": {"cubicweight": 1.0, "height": 10, "length": 10, "weight": 500, "width": 10},
        "offeringInfo": None,
        "offeringType": None,
        "offeringTypeId": None,
    }


def price_definition(item: OrderItem) -> dict[str, Any]:
    return {
        "sellingPrices": [{"value": item.selling_price, "quantity": item.quantity}],
        "calculatedSellingPrice": item.selling_price,
        "total": item.selling_price * item.quantity,
        "reason": None,
    }


def item_metadata(order: Order) -> dict[str, Any]:
    return {
        "Items": [
            {
                "Id": item.sku,
                "Seller": item.seller,
                "Name": item.name,
                "SkuName": item.name,
                "ProductId": item.product_id,
                "RefId": item.ref_id,
                "Ean": item.ean or "",
                "ImageUrl": item.image_url,
                "DetailUrl": item.detail_url,
                "AssemblyOptions": [],
            }
            for item in order.items
        ]
    }


def lock_id(order: Order) -> str:
    return f"00-{order_group(order)}-01"


def allow_cancellation(order: Order, visible: Visible) -> bool:
    return visible.status not in ("invoiced", "canceled") and order.output_total() == 0


def stats_block(values: list[int], facets: Any) -> dict[str, Any]:
    """One ``stats`` entry as VTEX's list answers it (its Solr-style statistics)."""
    count = len(values)
    total = sum(values)
    squares = sum(v * v for v in values)
    mean = total / count if count else 0
    deviation = math.sqrt(max(squares / count - mean * mean, 0.0)) if count else 0
    return {
        "Count": count,
        "Max": max(values, default=0),
        "Mean": mean,
        "Min": min(values, default=0),
        "Missing": 0,
        "StdDev": deviation,
        "Sum": total,
        "SumOfSquares": squares,
        "Facets": facets,
    }


def list_stats(orders: list[Order], value_of: Any) -> dict[str, Any]:
    """``stats.stats.<name>`` with its facets by origin (every sandbox order is a Marketplace order)."""
    values = [value_of(o) for o in orders]
    facets = {
        "origin": {"Fulfillment": stats_block([], None), "Marketplace": stats_block(values, None)},
        "currencyCode": {CURRENCY["currencyCode"]: stats_block(values, None)},
    }
    return stats_block(values, facets)


def paging(total: int, page: int, per_page: int) -> dict[str, int]:
    return {
        "total": total,
        "pages": (total + per_page - 1) // per_page,
        "currentPage": page,
        "perPage": per_page,
    }


def refund(package: Package, key: str, *, line_totals: bool) -> dict[str, Any]:
    """The restitution of a return (``Input``) invoice, under ``key`` as each route set spells it; item
    prices are line totals on the PII route and unit prices on the standard one."""
    return {
        key: {
            "value": package.refund,
            "giftCardData": None,
            "items": [
                {
                    "useFreight": False,
                    "isCompensation": False,
                    "compensationValue": 0,
                    "id": line.sku,
                    "quantity": line.quantity,
                    "price": line.line_total if line_totals else line.unit_price,
                    "description": line.description or "",
                }
                for line in package.notice.lines
            ],
        }
    }


def cancellation_requests(order: Order) -> list[dict[str, Any]] | None:
    """``cancellationRequests``: the cancellations that reached the order outside its grace window and
    what the seller answered (``null`` while there is none, as VTEX's examples show)."""
    if not order.cancellation_requests:
        return None
    return [
        {
            "id": r.id,
            "reason": r.reason,
            "cancellationRequestDate": r.date,
            "requestedByUser": False,
            "deniedBySeller": r.denied,
            "deniedBySellerReason": r.denied_reason,
            "cancellationRequestDenyDate": r.deny_date,
        }
        for r in order.cancellation_requests
    ]


def order_group_of(order: Order) -> str:
    """The purchase an order belongs to (its id without the split suffix): what order-group reads."""
    return order_group(order)


def payment_transaction(order: Order) -> dict[str, Any]:
    """GET payment-transaction: the order's transaction (its payment at the order's current value)."""
    transaction = dict(payment_data(order)["transactions"][0])
    transaction.pop("sharedTransaction", None)
    return transaction


#: What VTEX's conversation tracker e-mails the customer when an order reaches a status.
_CONVERSATION_SUBJECTS = {
    "payment-approved": "Pagamento aprovado",
    "invoiced": "Seu pedido foi faturado",
    "canceled": "Seu pedido foi cancelado",
}


def conversation(order: Order) -> list[dict[str, Any]]:
    """GET conversation-message: one e-mail per status that VTEX's conversation tracker announces (the
    file documents no schema; the fields are those of the tracker's messages)."""
    store = {
        "conversationRelatedTo": order.order_id,
        "conversationSubject": "oms",
        "emailAlias": f"noreply@{STORE}.example.com",
        "aliasMaskType": 0,
        "email": f"noreply@{STORE}.example.com",
        "name": STORE,
        "role": "Store",
    }
    customer = dict(
        store,
        emailAlias=order.client_email,
        email=order.client_email,
        name=order.client_name,
        role="Customer",
    )
    messages = []
    for mark in order.history:
        subject = _CONVERSATION_SUBJECTS.get(mark.status)
        if subject is None:
            continue
        text = f"{subject}: pedido {order.order_id}"
        messages.append(
            {
                "id": stable_id(order.order_id, "conversation", mark.status, mark.at),
                "from": store,
                "to": [customer],
                "subject": f"{subject} - {order.order_id}",
                "firstWords": text[:100],
                "body": f"<p>{text}</p>",
                "hasAttachment": False,
                "attachmentNames": [],
                "date": mark.at,
            }
        )
    return messages
