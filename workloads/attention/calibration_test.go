package attention

import "testing"

// DefaultQueryScale is calibrated so that about 6% of 384-token rows peak
// below τ = 0.1 and need their key LSBs (SpAtten reports 5.9%). This checks
// the calibration still holds for the synthetic data (unpruned rows, 6+4
// bits, BERT-base's head shape).
func TestQueryScaleCalibration(t *testing.T) {
	p := Params{Layers: 2, Heads: 12, D: 64, Context: 384, Summarize: true, PQuant: true, MSB: 6, LSB: 4,
		FullBits: 12, Tau: 0.1, Seed: 1, SampleQueries: 96}
	var req, q int
	for _, r := range RunModel(p).Rows {
		req += r.RequantQueries
		q += r.Queries
	}
	rate := float64(req) / float64(q)
	t.Logf("%.2f%% of queries refetch LSBs at query scale %g", 100*rate, DefaultQueryScale)
	if rate < 0.04 || rate > 0.08 {
		t.Errorf("%.2f%% of 384-token queries need LSBs; the calibration targets ~5.9%% (4–8%%)", 100*rate)
	}
}
