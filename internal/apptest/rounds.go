package apptest

import (
	"time"

	"facility/internal/calls"
)

// TwoRoundCallInput is CallInput as a two-round call: the form's first
// section is the concept note, and a full-proposal section asks for a work
// plan in detail; full proposals close fullCloses from now.
func TwoRoundCallInput(opens, closes, fullCloses time.Duration) calls.Input {
	in := CallInput(opens, closes)
	in.TwoRound = true
	in.FullProposalCloses = time.Now().UTC().Add(fullCloses).Format("2006-01-02T15:04")
	in.Form.Sections = append(in.Form.Sections, calls.Section{ID: "full", Round: calls.RoundFullProposal,
		Title: calls.Text{"en": "Full proposal", "fr": "Proposition complète"}, Questions: []calls.Question{
			{ID: "workplan", Kind: calls.KindLongText, Label: calls.Text{"en": "Work plan in detail", "fr": "Plan de travail détaillé"}, Required: true, MaxWords: 1000},
		}})
	return in
}
