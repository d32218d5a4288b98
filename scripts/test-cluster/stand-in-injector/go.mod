// A stand-in for Istio's sidecar injector, used only by sailplan's real-cluster tests.
// Standard library only: no require lines, no go.sum, nothing to download.
module sailplan.test/stand-in-injector

go 1.26
