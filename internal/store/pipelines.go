package store

import (
	"context"
	"time"

	"github.com/signalhq/signal/internal/signal"
)

// PipelineStore keeps pipelines.
type PipelineStore interface {
	CreatePipeline(ctx context.Context, p CreatePipelineParams) (*signal.Pipeline, error)
	GetPipeline(ctx context.Context, p GetPipelineParams) (*signal.Pipeline, error)
	ListPipelines(ctx context.Context, p ListParams) ([]*signal.Pipeline, error)
	UpdatePipeline(ctx context.Context, p UpdatePipelineParams) (*signal.Pipeline, error)
	DeletePipeline(ctx context.Context, p DeletePipelineParams) error
	// RotatePipeline gives a pipeline a new key and signing secret; the
	// current ones become the previous ones, accepted until PreviousUntil
	// (GetPipeline by Key finds the pipeline by either key meanwhile).
	RotatePipeline(ctx context.Context, p RotatePipelineParams) (*signal.Pipeline, error)
}

type RotatePipelineParams struct {
	ID            string
	Key           string
	SigningSecret string
	PreviousUntil time.Time
	Now           time.Time
}

type DeletePipelineParams struct {
	ID string
}

type CreatePipelineParams struct {
	ID            string
	Name          string
	Key           string
	SigningSecret string
	Now           time.Time
}

// GetPipelineParams finds a pipeline by ID or by Key (one of them). By
// Key, a rotated-out key finds its pipeline while its overlap lasts at Now
// (zero: the wall clock).
type GetPipelineParams struct {
	ID  string
	Key string
	Now time.Time
}

// UpdatePipelineParams changes the non-nil fields of pipeline ID.
type UpdatePipelineParams struct {
	ID               string
	Name             *string
	SignedOnlyEvents *[]string
	Now              time.Time
}

// ListParams pages a list: items after the cursor ID, in ID order.
type ListParams struct {
	After string
	Limit int
}
