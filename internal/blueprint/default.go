package blueprint

import "github.com/signalhq/signal/internal/signal"

// Max ages of the default blueprint's browsing events: a page or product
// view that could not be delivered within a day no longer helps a
// browse-abandonment flow and would only fire it late. Purchase-path events
// keep the full retry window.
const defaultBrowseMaxAge = "24h"

// Default returns the default (ecommerce) blueprint, after the Omnisend
// integration page. Each call returns a fresh copy that the caller may
// change.
func Default() signal.Blueprint {
	return signal.Blueprint{
		Version:  Version,
		Defaults: signal.BlueprintDefaults{Action: ActionDrop},
		Events: map[string]signal.BlueprintEvent{
			PageKey: {
				VendorEventName: "page viewed",
				Enabled:         true,
				Priority:        "low",
				MaxAge:          defaultBrowseMaxAge,
				Mappings: []signal.Mapping{
					{Source: "properties.url", Else: signal.Paths{"context.page.url"}, Target: "url"},
					{Source: "properties.title", Else: signal.Paths{"context.page.title"}, Target: "title"},
					{Source: "properties.referrer", Else: signal.Paths{"context.page.referrer"}, Target: "referrer"},
				},
			},
			"Signed Up": {
				VendorEventName: "signed up",
				Enabled:         true,
				Priority:        "normal",
				Mappings: []signal.Mapping{
					{Source: "properties.method", Target: "signUpMethod"},
				},
			},
			"Product Viewed": {
				VendorEventName: "product viewed",
				Enabled:         true,
				Priority:        "low",
				MaxAge:          defaultBrowseMaxAge,
				Mappings: []signal.Mapping{
					{Source: "properties.product_id", Target: "productID"},
					{Source: "properties.name", Target: "title"},
					{Source: "properties.price", Target: "price"},
					{Source: "properties.currency", Target: "currency"},
					{Source: "properties.url", Target: "url"},
					{Source: "properties.image_url", Target: "imageUrl"},
				},
			},
			"Product Added": {
				VendorEventName: "added to cart",
				Enabled:         true,
				Priority:        "normal",
				Mappings: []signal.Mapping{
					{Source: "properties.product_id", Target: "productID"},
					{Source: "properties.name", Target: "title"},
					{Source: "properties.price", Target: "price"},
					{Source: "properties.quantity", Target: "quantity"},
					{Source: "properties.currency", Target: "currency"},
					{Source: "properties.cart_id", Target: "cartID"},
				},
			},
			"Checkout Started": {
				VendorEventName: "started checkout",
				Enabled:         true,
				Priority:        "high",
				Mappings: []signal.Mapping{
					{Source: "properties.value", Else: signal.Paths{"properties.revenue"}, Target: "value"},
					{Source: "properties.currency", Target: "currency"},
					{Source: "properties.products", Target: "products"},
					{Source: "properties.checkout_url", Else: signal.Paths{"context.page.url"}, Target: "abandonedCheckoutURL"},
				},
			},
			"Order Completed": {
				VendorEventName: "placed order",
				Enabled:         true,
				Priority:        "high",
				Mappings: []signal.Mapping{
					{Source: "properties.order_id", Target: "orderID"},
					{Source: "properties.revenue", Else: signal.Paths{"properties.total"}, Target: "value"},
					{Source: "properties.currency", Target: "currency"},
					{Source: "properties.coupon", Target: "discountCode"},
					{Source: "properties.products", Target: "products"},
				},
			},
		},
	}
}
