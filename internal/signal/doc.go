// Package signal holds Signal's domain: the events a store sends, the
// pipelines that receive them, the integrations that deliver them and the
// deliveries that record what happened. It imports no other package of the
// project; every other package speaks in these types.
package signal
