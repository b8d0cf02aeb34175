"""The standard OMS route set's answers: GET order (GetOrder) and list orders (ListOrders).

Shapes from ``VTEX - Orders API.json``. Two places follow the file's own example rather than its schema
(see ``vtex_sandbox/spec_corrections.py``): items carry ``priceDefinition`` (the schema says
``priceDefinitions``) and ``unitMultiplier`` is ``1.0`` (the schema says integer).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vtex_sandbox.views import common

if TYPE_CHECKING:
    from vtex_sandbox.model import Order, OrderItem, Package
    from vtex_sandbox.views.common import Visible


def standard_order(order: Order, visible: Visible) -> dict[str, Any]:
    """GET /api/oms/pvt/orders/{orderId}."""
    first, last = common.first_last(order.client_name)
    return {
        "orderId": order.order_id,
        "sequence": order.sequence,
        "marketplaceOrderId": order.marketplace_order_id,
        "marketplaceServicesEndpoint": "https://sandbox.invalid/api/oms?an=sandbox",
        "sellerOrderId": order.seller_order,
        "origin": order.origin,
        "affiliateId": "",
        "salesChannel": "1",
        "merchantName": None,
        "status": visible.status,
        "workflowIsInError": False,
        "statusDescription": visible.description,
        "value": order.value,
        "creationDate": order.creation_date,
        "lastChange": order.last_change,
        "orderGroup": common.order_group(order),
        "followUpEmail": f"{common.stable_id(order.order_id, 'followup')[:12]}@ct.example.com",
        "lastMessage": None,
        "hostname": common.STORE,
        "isCompleted": not order.incomplete,
        "roundingError": 0,
        "orderFormId": common.stable_id(order.order_id, "orderForm"),
        "allowCancellation": common.allow_cancellation(order, visible),
        "allowEdition": False,
        "isCheckedIn": False,
        "authorizedDate": order.creation_date,
        "invoicedDate": visible.invoiced_date,
        "cancelReason": order.cancellation.reason if order.cancellation else None,
        "checkedInPickupPointId": None,
        "totals": common.totals(order),
        "sellers": common.sellers(),
        "clientPreferencesData": {"locale": "pt-BR", "optinNewsLetter": False},
        "cancellationData": _cancellation(order),
        "cancellationRequests": common.cancellation_requests(order),
        "taxData": None,
        "subscriptionData": None,
        "itemMetadata": common.item_metadata(order),
        "marketplace": None,
        "storePreferencesData": common.store_preferences(),
        "customData": None,
        "commercialConditionData": None,
        "openTextField": None,
        "invoiceData": None,
        "changesAttachment": _changes_attachment(order),
        "callCenterOperatorData": None,
        "packageAttachment": {"packages": [package_view(p) for p in visible.packages]},
        "paymentData": common.payment_data(order),
        "shippingData": {
            "id": "shippingData",
            "address": common.address(order, masked=False),
            "logisticsInfo": [common.logistics_info(order, i, item) for i, item in enumerate(order.items)],
            "trackingHints": common.tracking_hints(visible.packages),
            "selectedAddresses": [common.address(order, masked=False)],
            "contactInformation": [
                {
                    "id": "contactInformation",
                    "email": order.client_email,
                    "firstName": first,
                    "lastName": last,
                    "phone": "+5521987654321",
                    "document": "12345678909",
                    "documentType": "cpf",
                    "entityId": "",
                    "versionId": "",
                }
            ],
        },
        "ratesAndBenefitsData": {"id": "ratesAndBenefitsData", "rateAndBenefitsIdentifiers": []},
        "marketingData": None,
        "giftRegistryData": None,
        "clientProfileData": common.client_profile(order, masked=False),
        "items": [_item(order, item) for item in order.items],
        "marketplaceItems": [],
        "authorizationPolicyData": [],
    }


def _changes_attachment(order: Order) -> dict[str, Any] | None:
    """The legacy "Register modifications" route's record on the order (``null`` until it was used)."""
    legacy = [c for c in order.changes if c.legacy]
    if not legacy:
        return None
    return {
        "id": "changeAttachment",
        "changesData": [
            {
                "reason": c.reason,
                "discountValue": c.manual_discount,
                "incrementValue": c.manual_increment,
                "itemsAdded": [
                    {
                        "id": line.sku,
                        "name": line.name,
                        "quantity": line.quantity_to - line.quantity_from,
                        "price": line.price_to,
                        "unitMultiplier": None,
                    }
                    for line in c.lines
                    if line.quantity_to > line.quantity_from
                ],
                "itemsRemoved": [
                    {
                        "id": line.sku,
                        "name": line.name,
                        "quantity": line.quantity_from - line.quantity_to,
                        "price": line.price_from,
                        "unitMultiplier": None,
                    }
                    for line in c.lines
                    if line.quantity_from > line.quantity_to
                ],
                "receipt": {"date": c.date, "orderId": order.order_id, "receipt": c.request_id},
            }
            for c in legacy
        ],
    }


def _cancellation(order: Order) -> dict[str, Any] | None:
    if order.cancellation is None:
        return None
    return {
        "RequestedByUser": False,
        "RequestedBySystem": False,
        "RequestedBySellerNotification": True,
        "RequestedByPaymentNotification": False,
        "Reason": order.cancellation.reason,
        "CancellationDate": order.cancellation.date,
    }


def _item(order: Order, item: OrderItem) -> dict[str, Any]:
    return {
        "uniqueId": item.unique_id,
        "id": item.sku,
        "productId": item.product_id,
        "ean": item.ean,
        "lockId": common.lock_id(order),
        "itemAttachment": {"content": {}, "name": None},
        "attachments": [],
        "quantity": item.quantity,
        "seller": item.seller,
        "name": item.name,
        "refId": item.ref_id,
        "price": item.price,
        "listPrice": item.list_price,
        "manualPrice": None,
        "priceTags": [],
        "imageUrl": item.image_url,
        "detailUrl": item.detail_url,
        "components": [],
        "bundleItems": [],
        "params": [],
        "offerings": [],
        "attachmentOfferings": [],
        "sellerSku": item.sku,
        "priceValidUntil": None,
        "commission": 0,
        "tax": 0,
        "preSaleDate": None,
        "additionalInfo": common.item_additional_info(item),
        "measurementUnit": "un",
        "unitMultiplier": 1.0,
        "sellingPrice": item.selling_price,
        "isGift": False,
        "shippingPrice": None,
        "rewardValue": 0,
        "freightCommission": 0,
        "priceDefinition": common.price_definition(item),
        "taxCode": None,
        "parentItemIndex": None,
        "parentAssemblyBinding": None,
        "callCenterOperator": None,
        "serialNumbers": None,
        "assemblies": [],
        "costPrice": item.price,
    }


def package_view(package: Package) -> dict[str, Any]:
    """A package in GET order: integer ``invoiceValue``, items by ``itemIndex`` with their UNIT price."""
    notice = package.notice
    refund: dict[str, Any] = {}
    if package.refund is not None:
        refund = common.refund(package, "Refund", line_totals=False)
    status = package.courier_status
    return {
        "items": [
            {
                "itemIndex": line.item_index,
                "quantity": line.quantity,
                "price": line.unit_price,
                "description": line.description,
                "unitMultiplier": 1.0,
            }
            for line in notice.lines
        ],
        "courier": package.courier,
        "invoiceNumber": notice.number,
        "invoiceValue": notice.value,
        "invoiceUrl": notice.invoice_url,
        "issuanceDate": notice.issuance_date,
        "trackingNumber": package.tracking_number,
        "invoiceKey": notice.invoice_key,
        "trackingUrl": package.tracking_url,
        "embeddedInvoice": notice.embedded_invoice or "",
        "type": notice.kind,
        "courierStatus": None
        if status is None
        else {
            "status": "ok",
            "finished": status.finished,
            "deliveredDate": status.delivered_date or "",
            "data": [
                {
                    "lastChange": e.received,
                    "city": e.city,
                    "state": e.state,
                    "description": e.description,
                    "createDate": e.date,
                }
                for e in status.events
            ],
        },
        "cfop": notice.cfop,
        "restitutions": refund,
        "volumes": notice.volumes or 0,
        "EnableInferItems": None,
        "dispatchedDate": package.dispatched_date,
    }


def standard_order_list(visible: list[tuple[Order, Visible]], page: int, per_page: int) -> dict[str, Any]:
    """GET /api/oms/pvt/orders: summaries without ``items``, paging and Solr-style stats."""
    start = (page - 1) * per_page
    orders = [o for o, _ in visible]
    return {
        "list": [_summary(o, v) for o, v in visible[start : start + per_page]],
        "facets": [],
        "paging": common.paging(len(visible), page, per_page),
        "stats": {
            "stats": {
                "totalValue": common.list_stats(orders, lambda o: o.value),
                "totalItems": common.list_stats(orders, lambda o: sum(i.quantity for i in o.items)),
            }
        },
    }


def _summary(order: Order, visible: Visible) -> dict[str, Any]:
    return {
        "orderId": order.order_id,
        "creationDate": order.creation_date,
        "clientName": order.client_name,
        "items": None,
        "totalValue": order.value,
        "paymentNames": "Visa",
        "status": visible.status,
        "statusDescription": visible.description,
        "marketPlaceOrderId": order.marketplace_order_id or None,
        "sequence": order.sequence,
        "salesChannel": "1",
        "affiliateId": "",
        "origin": order.origin,
        "workflowInErrorState": False,
        "workflowInRetry": False,
        "lastMessageUnread": None,
        "ShippingEstimatedDate": None,
        "ShippingEstimatedDateMax": None,
        "ShippingEstimatedDateMin": None,
        "orderIsComplete": not order.incomplete,
        "listId": None,
        "listType": None,
        "authorizedDate": order.creation_date,
        "callCenterOperatorName": None,
        "totalItems": sum(i.quantity for i in order.items),
        "currencyCode": common.CURRENCY["currencyCode"],
    }
