// Package blueprint validates blueprints, provides the default ecommerce
// blueprint and maps a decoded event into a vendor event with one.
//
// A blueprint names, per source event, the vendor event to send and how its
// properties are built. The key "page" names page calls; any other key is a
// track event name. An enabled event without mappings forwards its
// properties unchanged; with mappings only the mapped targets are sent, each
// read from its source path or, when absent, from its "else" paths in order,
// and left out when all are absent (a JSON null counts as absent). Values
// are copied as sent: numbers stay json.Number with their exact text,
// objects and arrays are copied whole as their raw JSON, key order kept.
// A mapping may instead hold a constant ("value"), a "default" for an
// absent source, "transform"s and a "values" table, and "items" that map
// each object of a source array into an element of the target array. A
// target may be a path ("product.id", "discounts[0].code"), whose objects
// keep their keys in mapping order. The README's "Blueprint format"
// section describes the format for users.
//
// Validation errors are *signal.Error with code signal.EINVALID and a Field
// naming the bad spot as a path of JSON names: "version",
// "defaults.action", "events" (an empty event key),
// "events.<key>.vendor_event_name", "events.<key>.priority",
// "events.<key>.max_age", "events.<key>.mappings[<i>].source",
// "events.<key>.mappings[<i>].else[<j>]" and
// "events.<key>.mappings[<i>].target" (also .value, .default,
// .transform[<j>], .values.<k>, .items and .items[<j>].…),
// "events.<key>.event_version" and "contact[<i>].…". The event key is written as it is,
// spaces included and unquoted: "events.Order Completed.mappings[0].target".
package blueprint
