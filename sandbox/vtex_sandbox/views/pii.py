"""The PII data architecture's answers: GET order (GetOrder2) and list orders (ListOrders2).

Shapes from ``VTEX - Orders API PII version.json``. What differs from the standard route set, as that
file documents it:

* personal data is MASKED (``piiHidden: true``) unless GET order is given a ``reason`` query parameter;
  the list is always masked;
* GET order also carries ``id`` (the order id), ``salesChannelData``, ``workflowData``, ``receiptData``
  and ``contextData``, has no ``statusDescription``, and ``itemMetadata.items`` is camelCase;
* a package's text fields are strings (never ``null``), its items carry the SKU ``id`` and their price
  is the TOTAL of the invoiced line (as the PII invoice route sends it), ``restitutions`` is ``null``
  without a refund and names it ``refund``, and a package has its own ``lastChange``;
* the list entries carry the invoice numbers (``invoicesOutput``/``invoicesInput``) and many more fields.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vtex_sandbox.views import common

if TYPE_CHECKING:
    from vtex_sandbox.model import Order, OrderItem, Package
    from vtex_sandbox.views.common import Visible


def pii_order(order: Order, visible: Visible, *, masked: bool) -> dict[str, Any]:
    """GET /api/orders/pvt/document/{orderId} (masked unless asked with ``reason``)."""
    first, last = common.first_last(order.client_name)
    email = common.mask_email(order.client_email) if masked else order.client_email
    sales_channel = {
        **common.store_preferences(),
        "cultureInfo": "pt-BR",
        "id": "1",
        "name": "Main",
        "isActive": True,
    }
    return {
        "id": order.order_id,
        "orderId": order.order_id,
        "sequence": order.sequence,
        "sellerOrderId": order.seller_order,
        "orderFormId": common.stable_id(order.order_id, "orderForm"),
        "origin": order.origin,
        "orderGroup": common.order_group(order),
        "items": [_item(order, item) for item in order.items],
        "marketplaceItems": [],
        "authorizedDate": order.creation_date,
        "subscriptionData": None,
        "taxData": None,
        "invoicedDate": visible.invoiced_date,
        "marketplaceOrderId": order.marketplace_order_id or None,
        "marketplaceServicesEndpoint": None,
        "clientProfileData": common.client_profile(order, masked=masked),
        "giftRegistryData": None,
        "emailTracked": email,
        "isCheckedIn": False,
        "approvedBy": None,
        "cancelledBy": None,
        "canceledBy": None,
        "cancelReason": order.cancellation.reason if order.cancellation else None,
        "callCenterOperatorData": None,
        "allowCancellation": common.allow_cancellation(order, visible),
        "allowEdition": False,
        "roundingError": 0,
        "salesChannel": "1",
        "salesChannelData": sales_channel,
        "customData": None,
        "changesAttachment": None,
        "commercialConditionData": None,
        "shippingData": {
            "address": common.address(order, masked=masked),
            "logisticsInfo": [common.logistics_info(order, i, item) for i, item in enumerate(order.items)],
            "trackingHints": common.tracking_hints(visible.packages),
            "selectedAddresses": [common.address(order, masked=masked)],
            "availableAddresses": [common.address(order, masked=masked)],
            "contactInformation": [
                {
                    "id": "contactInformation",
                    "email": email,
                    "firstName": first,
                    "lastName": common.mask(last) if masked else last,
                    "document": common.mask("12345678909") if masked else "12345678909",
                    "phone": common.mask("+5521987654321") if masked else "+5521987654321",
                    "documentType": "cpf",
                }
            ],
        },
        "packageAttachment": {"packages": [package_view(p) for p in visible.packages]},
        "marketplace": None,
        "contextData": {
            "loggedIn": False,
            "hasAccessToOrderFormEnabledByLicenseManager": False,
            "userAgent": "vtex-sandbox",
            "userId": common.stable_id(order.client_email, "user"),
        },
        "lastMessage": None,
        "status": visible.status,
        "handlingData": None,
        "documentVersion": "1",
        "appVersion": "vtex-sandbox",
        "workflowData": {"instances": [], "mainFlowIndex": 0},
        "checkedInPickupPointId": None,
        "fingerPrint": common.stable_id(order.order_id, "fingerprint"),
        "piiHidden": masked,
        "workflowIsInError": False,
        "callCenterOperator": None,
        "state": visible.status,
        "timeZoneCreationDate": order.creation_date,
        "timeZoneLastChange": order.last_change,
        "userType": None,
        "clientPreferencesData": {"locale": "pt-BR", "optinNewsLetter": False},
        "workflowInstanceId": None,
        "creationDate": order.creation_date,
        "totals": common.totals(order),
        "receiptData": {"receiptCollection": []},
        "isCompleted": not order.incomplete,
        "openTextField": None,
        "affiliateId": None,
        "value": order.value,
        "hostname": common.STORE,
        "followUpEmail": f"{common.stable_id(order.order_id, 'followup')[:12]}@ct.example.com",
        "lastChange": order.last_change,
        "sellers": common.sellers(),
        "marketingData": None,
        "ratesAndBenefitsData": {"rateAndBenefitsIdentifiers": [], "teaser": None},
        "paymentData": common.payment_data(order),
        "invoiceData": None,
        "storePreferencesData": common.store_preferences(),
        "merchantName": None,
        "itemMetadata": {
            "items": [
                {
                    "id": item.sku,
                    "seller": item.seller,
                    "name": item.name,
                    "skuName": item.name,
                    "productId": item.product_id,
                    "refId": item.ref_id,
                    "ean": item.ean,
                    "imageUrl": item.image_url,
                    "detailUrl": item.detail_url,
                    "assemblyOptions": [],
                }
                for item in order.items
            ]
        },
        "creationEnvironment": "STABLE",
        "cancellationData": _cancellation(order),
        "cancellationRequests": common.cancellation_requests(order),
        "authorizationPolicyData": [],
    }


def _cancellation(order: Order) -> dict[str, Any] | None:
    if order.cancellation is None:
        return None
    return {
        "requestedByUser": False,
        "requestedBySystem": False,
        "requestedBySellerNotification": True,
        "requestedByPaymentNotification": False,
        "reason": order.cancellation.reason,
        "cancellationDate": order.cancellation.date,
        "cancellationRequestId": order.cancellation.request_id,
    }


def _item(order: Order, item: OrderItem) -> dict[str, Any]:
    return {
        "productCategories": {"1": "Sandbox"},
        "uniqueId": item.unique_id,
        "id": item.sku,
        "productId": item.product_id,
        "lockId": common.lock_id(order),
        "ean": item.ean,
        "quantity": item.quantity,
        "seller": item.seller,
        "sellerSku": item.sku,
        "priceValidUntil": order.creation_date,
        "name": item.name,
        "additionalInfo": common.item_additional_info(item),
        "attachments": [],
        "attachmentOfferings": [],
        "assemblies": [],
        "refId": item.ref_id,
        "shippingPrice": None,
        "price": item.price,
        "sellingPrice": item.selling_price,
        "listPrice": item.list_price,
        "manualPrice": None,
        "tax": 0,
        "rewardValue": 0,
        "freightCommission": 0,
        "commission": 0,
        "priceTags": [],
        "imageUrl": item.image_url,
        "detailUrl": item.detail_url,
        "components": [],
        "bundleItems": [],
        "offerings": [],
        "preSaleDate": None,
        "isGift": False,
        "taxCode": None,
        "measurementUnit": "un",
        "unitMultiplier": 1.0,
        "marketingData": None,
        "parentAssemblyBinding": None,
        "parentItemIndex": None,
        "callCenterOperator": None,
        "priceDefinition": common.price_definition(item),
        "costPrice": None,
    }


def package_view(package: Package) -> dict[str, Any]:
    """A package as the PII GET order shows it: strings, never ``null``; item price = line total."""
    notice = package.notice
    refund = None
    if package.refund is not None:
        refund = common.refund(package, "refund", line_totals=True)
    status = package.courier_status
    return {
        "courier": package.courier or "",
        "description": None,
        "invoiceNumber": notice.number,
        "invoiceValue": notice.value,
        "invoiceUrl": notice.invoice_url or "",
        "issuanceDate": notice.issuance_date,
        "trackingNumber": package.tracking_number or "",
        "invoiceKey": notice.invoice_key or "",
        "trackingUrl": package.tracking_url or "",
        "embeddedInvoice": notice.embedded_invoice or "",
        "type": notice.kind,
        "items": [
            {
                "itemIndex": line.item_index,
                "id": line.sku,
                "quantity": line.quantity,
                "price": line.line_total,
                "description": line.description or "",
                "unitMultiplier": 1.0,
            }
            for line in notice.lines
        ],
        "courierStatus": None
        if status is None
        else {
            "deliveredDate": status.delivered_date or "",
            "status": "ok",
            "finished": status.finished,
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
        "lastChange": package.last_change,
        "restitutions": refund,
        "volumes": notice.volumes,
    }


def pii_order_list(visible: list[tuple[Order, Visible]], page: int, per_page: int) -> dict[str, Any]:
    """POST /api/orders/extendsearch/orders: masked summaries, paging and Solr-style stats."""
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
        "reportRecordsLimit": 50000,
    }


def _summary(order: Order, visible: Visible) -> dict[str, Any]:
    outputs = [p.notice.number for p in visible.packages if p.notice.kind == "Output"]
    inputs = [p.notice.number for p in visible.packages if p.notice.kind == "Input"]
    delivered = [p for p in visible.packages if p.courier_status and p.courier_status.finished]
    payment = common.payment(order)
    return {
        "paymentNames": "Visa",
        "orderId": order.order_id,
        "orderGroup": common.order_group(order),
        "sequence": order.sequence,
        "clientEmail": common.mask_email(order.client_email),
        "clientDocument": common.mask("12345678909"),
        "clientCorporateDocument": None,
        "clientCorporateName": None,
        "clientName": common.mask(order.client_name),
        "totalValue": order.value,
        "origin": order.origin,
        "status": visible.status,
        "currencyCode": common.CURRENCY["currencyCode"],
        "sellerNames": [common.SELLER_NAME],
        "sellerIds": ["1"],
        "sellerOrderId": order.seller_order,
        "totalItems": sum(i.quantity for i in order.items),
        "pciTransactionId": [payment["tid"]],
        "paymentNSU": [payment["connectorResponses"]["nsu"]],
        "ratesAndBenefitsNames": [],
        "ratesAndBenefitsIds": [],
        "shippingEstimatedDateMax": order.creation_date,
        "shippingEstimatedDateMin": order.creation_date,
        "transactionIds": [common.stable_id(order.order_id, "transaction").upper()],
        "paymentIds": [payment["id"]],
        "isInstore": False,
        "deliveryChannel": ["delivery"],
        "productIds": [i.product_id for i in order.items],
        "hostname": common.STORE,
        "creationDate": order.creation_date,
        "invoicedDate": visible.invoiced_date,
        "authorizedDate": order.creation_date,
        "orderIsComplete": not order.incomplete,
        "marketingTags": [],
        "invoicesOutput": outputs or None,
        "invoicesInput": inputs or None,
        "workflowInErrorState": False,
        "workflowInRetry": False,
        "userProfileId": common.stable_id(order.client_email, "profile"),
        "lastChange": order.last_change,
        "isAllDelivered": bool(visible.packages) and len(delivered) == len(visible.packages),
        "isAnyDelivered": bool(delivered),
        "giftCardProviders": None,
        "orderFormId": common.stable_id(order.order_id, "orderForm"),
        "paymentApprovedDate": order.creation_date,
        "readyForHandlingDate": None,
        "deliveryDates": None,
        "ingestPipelineMetadata": [],
        "marketplaceWorkflowInstanceId": None,
        "fulfillmentWorkflowInstanceId": None,
        "callCenterOperatorEmail": None,
        "callCenterOperatorName": None,
        "productNames": [i.name for i in order.items],
    }
