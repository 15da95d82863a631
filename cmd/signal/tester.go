package main

import (
	"context"
	"strings"
	"time"

	"github.com/signalhq/signal/internal/admin"
	"github.com/signalhq/signal/internal/contact"
	"github.com/signalhq/signal/internal/delivery"
	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/pipeline"
	"github.com/signalhq/signal/internal/signal"
)

// tester adapts the delivery engine to the Management API's test route.
type tester struct {
	engine *delivery.Engine
}

func (t tester) SendTest(ctx context.Context, in *signal.Integration, email string) (*admin.TestResult, error) {
	addr, err := contact.ParseEmail(email)
	if err != nil {
		return nil, signal.FieldErrorf(signal.EINVALID, "email", "email is not a valid address")
	}
	now := time.Now().UTC()
	ev := &integration.Event{
		IntegrationID: in.ID,
		// A test event belongs to no pipeline; this marker keeps its
		// eventID apart from any real pipeline's (ids are pip_…).
		PipelineID:      "test",
		MessageID:       "test-" + now.Format("20060102T150405.000000000"),
		VendorEventName: "signal test event",
		Timestamp:       now,
		Contact:         integration.Contact{Email: addr},
		Properties:      map[string]any{"source": "signal", "marketing_consent": pipeline.ConsentNonSubscribed},
		Order:           []string{"source", "marketing_consent"},
	}
	if in.ConfigBool("dry_run") {
		payload, err := t.engine.BuildTest(in, ev)
		if err != nil {
			return nil, err
		}
		return &admin.TestResult{Status: signal.ReasonDryRun, Payload: payload}, nil
	}
	o, payload, err := t.engine.SendTest(ctx, in, ev)
	if err != nil {
		return nil, err
	}
	status := signal.StatusFailed
	switch o.Kind {
	case integration.Delivered:
		status = signal.StatusDelivered
	case integration.RateLimited:
		status = "rate_limited"
	case integration.Pause:
		status = strings.TrimSpace(o.Reason)
	}
	return &admin.TestResult{Status: status, VendorStatus: o.Status, VendorResponse: o.Body, Payload: payload}, nil
}
