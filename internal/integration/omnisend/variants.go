package omnisend

import (
	"encoding/json"

	"github.com/signalhq/signal/internal/blueprint"
	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/signal"
)

// Variant keys.
const (
	VariantDefault     = "default"
	VariantRecommended = "recommended"
)

// Event versions Omnisend documents for its recommended events (see
// docs/decisions.md for the pages): order events are "v2", the cart events
// "", viewed product "v4".
const (
	versionOrder = "v2"
	versionCart  = ""
	versionView  = "v4"
)

// variants are the blueprints offered at install.
func variants() []integration.Variant {
	return []integration.Variant{
		{
			Key:         VariantDefault,
			Name:        "Ecommerce (default)",
			Description: "Page views, sign-ups, product views, add-to-cart, started checkouts and placed orders, mapped to Omnisend custom events for welcome, browse-abandonment, cart-recovery and post-purchase flows. Other events are dropped until enabled.",
			Blueprint:   blueprint.Default(),
		},
		{
			Key:         VariantRecommended,
			Name:        "Ecommerce (Omnisend recommended events)",
			Description: "Segment's e-commerce events as Omnisend's recommended events (placed order v2 with line items and totalPrice, started checkout, added product to cart, viewed product, order refunded, canceled, paid and fulfilled), so Omnisend's pre-built automations, segments and revenue reports work; contacts get address, birthdate and gender from traits.",
			Blueprint:   Recommended(),
		},
	}
}

// Recommended returns the blueprint of variant "recommended": Segment's
// e-commerce spec events mapped to Omnisend's recommended events, per the
// contract's property lists. Each call returns a fresh copy.
func Recommended() signal.Blueprint {
	bp := blueprint.Default()
	ev := func(name, version, priority string, ms []signal.Mapping) signal.BlueprintEvent {
		return signal.BlueprintEvent{VendorEventName: name, Enabled: true, Priority: priority, EventVersion: &version, Mappings: ms}
	}
	bp.Events["Order Completed"] = ev("placed order", versionOrder, "high", orderMappings())
	bp.Events["Order Refunded"] = ev("order refunded", versionOrder, "normal", orderMappings())
	bp.Events["Order Cancelled"] = ev("order canceled", versionOrder, "normal", orderMappings())
	// Not in Segment's spec: a backend that knows these moments names them so.
	bp.Events["Order Paid"] = ev("paid for order", versionOrder, "normal", orderMappings())
	bp.Events["Order Fulfilled"] = ev("order fulfilled", versionOrder, "normal", orderMappings())
	bp.Events["Product Ordered"] = ev("ordered product", versionOrder, "normal", orderMappings())
	bp.Events["Checkout Started"] = ev("started checkout", versionCart, "high", append([]signal.Mapping{
		{Source: "properties.cart_id", Else: signal.Paths{"properties.checkout_id"}, Transform: signal.Paths{blueprint.TransformString}, Target: "cartID"},
		{Source: "properties.value", Else: signal.Paths{"properties.revenue"}, Transform: signal.Paths{blueprint.TransformNumber}, Target: "value"},
		{Source: "properties.currency", Transform: signal.Paths{blueprint.TransformUpper}, Target: "currency"},
		{Source: "properties.checkout_url", Target: "abandonedCheckoutURL"},
	}, lineItems("properties.products", "lineItems")...))
	added := []signal.Mapping{
		{Source: "properties.cart_id", Transform: signal.Paths{blueprint.TransformString}, Target: "cartID"},
		{Source: "properties.value", Else: signal.Paths{"properties.price"}, Transform: signal.Paths{blueprint.TransformNumber}, Target: "value"},
		{Source: "properties.currency", Transform: signal.Paths{blueprint.TransformUpper}, Target: "currency"},
		{Source: "properties.checkout_url", Target: "abandonedCheckoutURL"},
	}
	for _, m := range lineItemFields() {
		m.Source = "properties." + m.Source
		m.Else = prefixed("properties.", m.Else)
		m.Target = "addedItem." + m.Target
		added = append(added, m)
	}
	bp.Events["Product Added"] = ev("added product to cart", versionCart, "normal", append(added, lineItems("properties.products", "lineItems")...))
	viewed := ev("viewed product", versionView, "low", []signal.Mapping{
		{Source: "properties.product_id", Else: signal.Paths{"properties.sku"}, Transform: signal.Paths{blueprint.TransformString}, Target: "product.id"},
		{Source: "properties.name", Target: "product.title"},
		{Source: "properties.price", Transform: signal.Paths{blueprint.TransformNumber}, Target: "product.price"},
		{Source: "properties.currency", Transform: signal.Paths{blueprint.TransformUpper}, Target: "product.currency"},
		{Source: "properties.image_url", Target: "product.imageUrl"},
		{Source: "properties.url", Else: signal.Paths{"context.page.url"}, Target: "product.url"},
		{Source: "properties.category", Target: "product.categories[0].title"},
		{Source: "context.page.title", Target: "page.title"},
		{Source: "context.page.url", Target: "page.url"},
	})
	viewed.MaxAge = bp.Events["Product Viewed"].MaxAge
	bp.Events["Product Viewed"] = viewed
	bp.Contact = contactMappings()
	return bp
}

// orderMappings are placed order's properties (contract: "Omnisend:
// variants"), shared by the other order events.
func orderMappings() []signal.Mapping {
	num := signal.Paths{blueprint.TransformNumber}
	return append([]signal.Mapping{
		{Source: "properties.order_id", Transform: signal.Paths{blueprint.TransformString}, Target: "orderID"},
		{Source: "properties.currency", Transform: signal.Paths{blueprint.TransformUpper}, Target: "currency"},
		{Source: "properties.total", Else: signal.Paths{"properties.revenue"}, Transform: num, Target: "totalPrice"},
		{Source: "properties.subtotal", Transform: num, Target: "subTotalPrice"},
		{Source: "properties.tax", Transform: num, Target: "totalTax"},
		{Source: "properties.shipping", Transform: num, Target: "shippingPrice"},
		{Source: "properties.discount", Transform: num, Target: "totalDiscount"},
		{Source: blueprint.EventTimePath, Target: "createdAt"},
		{Source: "properties.coupon", Transform: signal.Paths{blueprint.TransformString}, Target: "discounts[0].code"},
	}, lineItems("properties.products", "lineItems")...)
}

// lineItems maps the Segment products array at source into Omnisend line
// items at target.
func lineItems(source, target string) []signal.Mapping {
	return []signal.Mapping{{Source: source, Target: target, Items: lineItemFields()}}
}

// lineItemFields are one Segment product's fields as an Omnisend line
// item's, paths relative to the product.
func lineItemFields() []signal.Mapping {
	num := signal.Paths{blueprint.TransformNumber}
	str := signal.Paths{blueprint.TransformString}
	return []signal.Mapping{
		{Source: "product_id", Transform: str, Target: "productID"},
		{Source: "sku", Transform: str, Target: "productSKU"},
		// product_name: the integration page's own example spells it so.
		{Source: "name", Else: signal.Paths{"product_name"}, Target: "productTitle"},
		{Source: "price", Transform: num, Target: "productPrice"},
		{Source: "quantity", Transform: num, Target: "productQuantity"},
		{Source: "url", Target: "productURL"},
		{Source: "image_url", Target: "productImageURL"},
		{Source: "variant", Transform: str, Target: "productVariantID"},
		{Source: "category", Target: "productCategories[0].title"},
	}
}

// contactMappings read Segment's reserved traits into Omnisend's contact
// fields: address parts, birthdate as YYYY-MM-DD, gender as m or f.
func contactMappings() []signal.Mapping {
	gender := map[string]json.RawMessage{
		"m": json.RawMessage(`"m"`), "male": json.RawMessage(`"m"`),
		"f": json.RawMessage(`"f"`), "female": json.RawMessage(`"f"`),
	}
	return []signal.Mapping{
		{Source: "traits.address.street", Target: "address"},
		{Source: "traits.address.city", Target: "city"},
		{Source: "traits.address.state", Target: "state"},
		{Source: "traits.address.postal_code", Else: signal.Paths{"traits.address.postalCode"}, Transform: signal.Paths{blueprint.TransformString}, Target: "postalCode"},
		{Source: "traits.address.country", Target: "country"},
		{Source: "traits.birthday", Else: signal.Paths{"traits.birthdate"}, Transform: signal.Paths{blueprint.TransformDate}, Target: "birthdate"},
		{Source: "traits.gender", Transform: signal.Paths{blueprint.TransformTrim, blueprint.TransformLower}, Values: gender, Target: "gender"},
	}
}

// prefixed returns paths, each behind prefix.
func prefixed(prefix string, paths signal.Paths) signal.Paths {
	if paths == nil {
		return nil
	}
	out := make(signal.Paths, len(paths))
	for i, p := range paths {
		out[i] = prefix + p
	}
	return out
}
