package postgres

import (
	"strings"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store/sqlstore"
)

// insertDeliveries inserts rows given as one array per column ($2…$23;
// $23 is the backfill ids again, as backfill_origin);
// created_at and updated_at are $1, lease_until 0.
const insertDeliveries = `INSERT INTO deliveries (id, event_seq, message_id, pipeline_id, integration_id, type, event, status, reason, note,
	vendor_event_name, priority, contact_key, attempts, next_attempt_at, expires_at, vendor_status, payload, received_at,
	warnings, backfill_id, backfill_origin, created_at, updated_at, lease_until)
	SELECT u.*, $1::bigint, $1::bigint, 0 FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
		$9::text[], $10::text[], $11::text[], $12::text[], $13::int[], $14::text[], $15::int[], $16::bigint[], $17::bigint[], $18::int[],
		$19::bytea[], $20::bigint[], $21::text[], $22::text[], $23::text[]) AS u`

// deliveryColumns gathers deliveries column by column for insertDeliveries.
type deliveryColumns struct {
	now                                                int64
	ids, eventSeqs, next, expires, received            []int64
	msgIDs, pipelineIDs, integrationIDs, types, names  []string
	statuses, reasons, notes, vendorNames, contactKeys []string
	warnings, backfillIDs                              []string
	priorities, attempts, vendorStatuses               []int32
	payloads                                           [][]byte
}

func newDeliveryColumns(n int, now int64) *deliveryColumns {
	return &deliveryColumns{
		now: now,
		ids: make([]int64, 0, n), eventSeqs: make([]int64, 0, n), next: make([]int64, 0, n), expires: make([]int64, 0, n),
		received: make([]int64, 0, n), msgIDs: make([]string, 0, n), pipelineIDs: make([]string, 0, n),
		integrationIDs: make([]string, 0, n), types: make([]string, 0, n), names: make([]string, 0, n),
		statuses: make([]string, 0, n), reasons: make([]string, 0, n), notes: make([]string, 0, n),
		vendorNames: make([]string, 0, n), contactKeys: make([]string, 0, n), priorities: make([]int32, 0, n),
		attempts: make([]int32, 0, n), vendorStatuses: make([]int32, 0, n), payloads: make([][]byte, 0, n),
		warnings: make([]string, 0, n), backfillIDs: make([]string, 0, n),
	}
}

func (c *deliveryColumns) add(d *signal.Delivery, sealedPayload []byte) {
	c.ids, c.eventSeqs = append(c.ids, d.ID), append(c.eventSeqs, d.EventSeq)
	c.msgIDs, c.pipelineIDs, c.integrationIDs = append(c.msgIDs, d.MessageID), append(c.pipelineIDs, d.PipelineID), append(c.integrationIDs, d.IntegrationID)
	c.types, c.names, c.statuses = append(c.types, d.Type), append(c.names, d.Event), append(c.statuses, string(d.Status))
	c.reasons, c.notes, c.vendorNames = append(c.reasons, string(d.Reason)), append(c.notes, d.Note), append(c.vendorNames, d.VendorEventName)
	c.priorities, c.contactKeys, c.attempts = append(c.priorities, int32(d.Priority)), append(c.contactKeys, d.ContactKey), append(c.attempts, int32(d.Attempts))
	c.next, c.expires, c.vendorStatuses = append(c.next, ms(d.NextAttemptAt)), append(c.expires, ms(d.ExpiresAt)), append(c.vendorStatuses, int32(d.VendorStatus))
	c.payloads, c.received = append(c.payloads, sealedPayload), append(c.received, ms(d.ReceivedAt))
	c.warnings = append(c.warnings, sqlstore.WarningsText(d.Warnings))
	c.backfillIDs = append(c.backfillIDs, d.BackfillID)
}

// args are insertDeliveries' arguments.
func (c *deliveryColumns) args() []any {
	return []any{c.now, c.ids, c.eventSeqs, c.msgIDs, c.pipelineIDs, c.integrationIDs, c.types, c.names, c.statuses, c.reasons, c.notes,
		c.vendorNames, c.priorities, c.contactKeys, c.attempts, c.next, c.expires, c.vendorStatuses, c.payloads, c.received, c.warnings, c.backfillIDs, c.backfillIDs}
}

// prefixed qualifies each column of a comma-separated list with p.
func prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}
