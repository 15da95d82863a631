package klaviyo

import (
	"github.com/signalhq/signal/internal/blueprint"
	"github.com/signalhq/signal/internal/signal"
)

// DefaultBlueprint is the ecommerce blueprint, after the metric names
// Klaviyo's own ecommerce integrations use (so its flow templates trigger).
// value is the metric's revenue: the payload moves it to attributes.value,
// and currency to value_currency.
func DefaultBlueprint() signal.Blueprint {
	browse := "24h"
	return signal.Blueprint{
		Version:  blueprint.Version,
		Defaults: signal.BlueprintDefaults{Action: blueprint.ActionDrop},
		Events: map[string]signal.BlueprintEvent{
			blueprint.PageKey: {
				VendorEventName: "Active on Site", Enabled: true, Priority: "low", MaxAge: browse,
				Mappings: []signal.Mapping{
					{Source: "properties.url", Else: signal.Paths{"context.page.url"}, Target: "url"},
					{Source: "properties.title", Else: signal.Paths{"context.page.title"}, Target: "title"},
					{Source: "properties.referrer", Else: signal.Paths{"context.page.referrer"}, Target: "referrer"},
				},
			},
			blueprint.IdentifyKey: {VendorEventName: ProfileImportName, Enabled: true, Priority: "normal"},
			"Signed Up": {
				VendorEventName: "Signed Up", Enabled: true, Priority: "normal",
				Mappings: []signal.Mapping{{Source: "properties.method", Target: "SignUpMethod"}},
			},
			"Product Viewed": {
				VendorEventName: "Viewed Product", Enabled: true, Priority: "low", MaxAge: browse,
				Mappings: []signal.Mapping{
					{Source: "properties.product_id", Target: "ProductID"},
					{Source: "properties.name", Target: "ProductName"},
					{Source: "properties.price", Target: "Price"},
					{Source: "properties.currency", Target: "currency"},
					{Source: "properties.url", Target: "URL"},
					{Source: "properties.image_url", Target: "ImageURL"},
				},
			},
			"Product Added": {
				VendorEventName: "Added to Cart", Enabled: true, Priority: "normal",
				Mappings: []signal.Mapping{
					{Source: "properties.product_id", Target: "AddedItemProductID"},
					{Source: "properties.name", Target: "AddedItemProductName"},
					{Source: "properties.price", Target: "AddedItemPrice"},
					{Source: "properties.quantity", Target: "AddedItemQuantity"},
					{Source: "properties.currency", Target: "currency"},
					{Source: "properties.cart_id", Target: "CartID"},
				},
			},
			"Checkout Started": {
				VendorEventName: "Started Checkout", Enabled: true, Priority: "normal",
				Mappings: []signal.Mapping{
					{Source: "properties.value", Else: signal.Paths{"properties.revenue"}, Target: "value"},
					{Source: "properties.currency", Target: "currency"},
					{Source: "properties.products", Target: "Items"},
					{Source: "properties.checkout_url", Else: signal.Paths{"context.page.url"}, Target: "CheckoutURL"},
				},
			},
			"Order Completed": {
				VendorEventName: "Placed Order", Enabled: true, Priority: "high",
				Mappings: []signal.Mapping{
					{Source: "properties.order_id", Target: "OrderId"},
					{Source: "properties.revenue", Else: signal.Paths{"properties.total"}, Target: "value"},
					{Source: "properties.currency", Target: "currency"},
					{Source: "properties.coupon", Target: "DiscountCode"},
					{Source: "properties.products", Target: "Items"},
				},
			},
		},
	}
}
