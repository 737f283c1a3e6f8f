package portfolio

import (
	"context"
	"math"
)

// lp is the relaxation  minimise c·x  subject to  A x − r = 0,
// lo ≤ (x, r) ≤ up, solved by a bounded-variable dual simplex method with an
// explicit dense basis inverse. Variables 0..n−1 are the proposals, n..n+m−1
// the row activities r (column −e_i). Every proposal variable is boxed, so
// any basis can be made dual feasible by putting each nonbasic proposal at
// the bound its reduced cost prefers: branch and bound changes bounds freely
// and re-solves from the last basis.
//
// Bounds taken from the simplex are never trusted as they are: lagrange
// turns the current multipliers into a valid bound whatever their quality.
type lp struct {
	n, m int

	colStart []int // proposals' columns
	colRow   []int
	colVal   []float64
	rowStart []int // rows, for tableau rows
	rowCol   []int
	rowVal   []float64

	c, lo, up []float64 // n+m
	head      []int     // basic variable of each row position
	pos       []int     // row position of a basic variable, −1 if nonbasic
	atUp      []bool    // nonbasic at its upper bound
	x, d      []float64 // values and reduced costs, n+m
	binv      []float64 // m×m, row-major
	since     int       // pivots since the last refactorisation

	alpha, col, y, w []float64
	rc               []float64 // reduced costs from lagrange, n
	iters            int64
}

type lpRow struct {
	idx    []int
	val    []float64
	lo, up float64
}

type lpStatus int

const (
	lpOptimal lpStatus = iota
	lpInfeasible
	lpStopped
)

const (
	tolPrimal     = 1e-9
	tolDual       = 1e-9
	tolPivot      = 1e-8
	refactorEvery = 100
)

func newLP(n int, rows []lpRow, c, lo, up []float64) *lp {
	m := len(rows)
	l := &lp{n: n, m: m}
	l.rowStart = make([]int, m+1)
	cnt := make([]int, n+1)
	for i, r := range rows {
		l.rowStart[i+1] = l.rowStart[i] + len(r.idx)
		for _, j := range r.idx {
			cnt[j+1]++
		}
	}
	nnz := l.rowStart[m]
	l.rowCol = make([]int, 0, nnz)
	l.rowVal = make([]float64, 0, nnz)
	for _, r := range rows {
		l.rowCol = append(l.rowCol, r.idx...)
		l.rowVal = append(l.rowVal, r.val...)
	}
	l.colStart = make([]int, n+1)
	for j := 0; j < n; j++ {
		l.colStart[j+1] = l.colStart[j] + cnt[j+1]
	}
	l.colRow = make([]int, nnz)
	l.colVal = make([]float64, nnz)
	fill := append([]int(nil), l.colStart[:n]...)
	for i, r := range rows {
		for k, j := range r.idx {
			l.colRow[fill[j]] = i
			l.colVal[fill[j]] = r.val[k]
			fill[j]++
		}
	}
	N := n + m
	l.c = make([]float64, N)
	copy(l.c, c)
	l.lo = make([]float64, N)
	l.up = make([]float64, N)
	copy(l.lo, lo)
	copy(l.up, up)
	for i, r := range rows {
		l.lo[n+i], l.up[n+i] = r.lo, r.up
	}
	l.head = make([]int, m)
	l.pos = make([]int, N)
	l.atUp = make([]bool, N)
	l.x = make([]float64, N)
	l.d = make([]float64, N)
	l.binv = make([]float64, m*m)
	l.alpha = make([]float64, N)
	l.col = make([]float64, m)
	l.y = make([]float64, m)
	l.w = make([]float64, m)
	l.rc = make([]float64, n)
	l.slackBasis()
	return l
}

// slackBasis makes every row activity basic: B = −I, always nonsingular.
func (l *lp) slackBasis() {
	for j := range l.pos {
		l.pos[j] = -1
	}
	clear(l.binv)
	for i := 0; i < l.m; i++ {
		l.head[i] = l.n + i
		l.pos[l.n+i] = i
		l.binv[i*l.m+i] = -1
	}
	l.since = 0
	l.computeDuals()
	l.placeNonbasic()
	l.computeXB()
}

// computeDuals sets y = c_B B⁻¹ and the reduced costs d.
func (l *lp) computeDuals() {
	m := l.m
	clear(l.y)
	for i := 0; i < m; i++ {
		cb := l.c[l.head[i]]
		if cb == 0 {
			continue
		}
		row := l.binv[i*m : (i+1)*m]
		for k, v := range row {
			l.y[k] += cb * v
		}
	}
	for j := 0; j < l.n; j++ {
		if l.pos[j] >= 0 {
			l.d[j] = 0
			continue
		}
		s := l.c[j]
		for k := l.colStart[j]; k < l.colStart[j+1]; k++ {
			s -= l.y[l.colRow[k]] * l.colVal[k]
		}
		l.d[j] = s
	}
	for i := 0; i < m; i++ {
		if l.pos[l.n+i] >= 0 {
			l.d[l.n+i] = 0
		} else {
			l.d[l.n+i] = l.y[i]
		}
	}
}

// placeNonbasic puts each nonbasic variable at the bound its reduced cost
// prefers, which makes the basis dual feasible for boxed variables.
func (l *lp) placeNonbasic() {
	for j := range l.x {
		if l.pos[j] >= 0 {
			continue
		}
		lo, up := l.lo[j], l.up[j]
		switch {
		case lo == up:
			l.atUp[j] = false
		case math.IsInf(up, 1):
			l.atUp[j] = false
		case math.IsInf(lo, -1):
			l.atUp[j] = true
		case l.d[j] < 0:
			l.atUp[j] = true
		case l.d[j] > 0:
			l.atUp[j] = false
		}
		if l.atUp[j] {
			l.x[j] = up
		} else {
			l.x[j] = lo
		}
	}
}

// computeXB sets the basic values from the nonbasic ones: x_B = −B⁻¹ N x_N.
func (l *lp) computeXB() {
	m, n := l.m, l.n
	clear(l.w)
	for j := 0; j < n; j++ {
		if l.pos[j] >= 0 || l.x[j] == 0 {
			continue
		}
		xj := l.x[j]
		for k := l.colStart[j]; k < l.colStart[j+1]; k++ {
			l.w[l.colRow[k]] += l.colVal[k] * xj
		}
	}
	for i := 0; i < m; i++ {
		if l.pos[n+i] < 0 {
			l.w[i] -= l.x[n+i]
		}
	}
	for i := 0; i < m; i++ {
		row := l.binv[i*m : (i+1)*m]
		s := 0.0
		for k, v := range row {
			s += v * l.w[k]
		}
		l.x[l.head[i]] = -s
	}
}

// refactor recomputes B⁻¹ from scratch by Gauss–Jordan elimination with
// partial pivoting; a singular basis falls back to the slack basis.
func (l *lp) refactor() {
	m, n := l.m, l.n
	if m == 0 {
		return
	}
	a := make([]float64, m*m)
	for i, v := range l.head {
		if v >= n {
			a[(v-n)*m+i] = -1
			continue
		}
		for k := l.colStart[v]; k < l.colStart[v+1]; k++ {
			a[l.colRow[k]*m+i] = l.colVal[k]
		}
	}
	inv := l.binv
	clear(inv)
	for i := 0; i < m; i++ {
		inv[i*m+i] = 1
	}
	for c := 0; c < m; c++ {
		p, best := -1, 1e-11
		for r := c; r < m; r++ {
			if v := math.Abs(a[r*m+c]); v > best {
				p, best = r, v
			}
		}
		if p < 0 {
			l.slackBasis()
			return
		}
		if p != c {
			for k := 0; k < m; k++ {
				a[p*m+k], a[c*m+k] = a[c*m+k], a[p*m+k]
				inv[p*m+k], inv[c*m+k] = inv[c*m+k], inv[p*m+k]
			}
		}
		f := 1 / a[c*m+c]
		ar, ir := a[c*m:(c+1)*m], inv[c*m:(c+1)*m]
		for k := 0; k < m; k++ {
			ar[k] *= f
			ir[k] *= f
		}
		for r := 0; r < m; r++ {
			if r == c {
				continue
			}
			g := a[r*m+c]
			if g == 0 {
				continue
			}
			arr, irr := a[r*m:(r+1)*m], inv[r*m:(r+1)*m]
			for k := c; k < m; k++ {
				arr[k] -= g * ar[k]
			}
			for k := 0; k < m; k++ {
				irr[k] -= g * ir[k]
			}
		}
	}
	l.since = 0
	l.computeDuals()
	l.placeNonbasic()
	l.computeXB()
}

// prepare re-solves after bound changes: nonbasic variables move to their
// preferred bounds and the basic values follow.
func (l *lp) prepare() {
	l.placeNonbasic()
	l.computeXB()
}

// solve runs the dual simplex from the current basis until the basis is
// primal feasible (optimal), the problem is shown infeasible, or a limit or
// ctx stops it.
func (l *lp) solve(ctx context.Context, maxIter int) lpStatus {
	m, n, N := l.m, l.n, l.n+l.m
	for it := 0; ; it++ {
		if it%64 == 63 && ctx.Err() != nil {
			return lpStopped
		}
		if it >= maxIter {
			return lpStopped
		}
		if l.since >= refactorEvery {
			l.refactor()
		}
		r, worst := -1, 0.0
		for i := 0; i < m; i++ {
			v := l.head[i]
			xv := l.x[v]
			var inf float64
			if xv < l.lo[v] {
				inf = l.lo[v] - xv
				if inf <= tolPrimal*(1+math.Abs(l.lo[v])) {
					continue
				}
			} else if xv > l.up[v] {
				inf = xv - l.up[v]
				if inf <= tolPrimal*(1+math.Abs(l.up[v])) {
					continue
				}
			} else {
				continue
			}
			if inf > worst {
				r, worst = i, inf
			}
		}
		if r < 0 {
			return lpOptimal
		}
		v := l.head[r]
		inc := l.x[v] < l.lo[v]
		// Row r of the tableau: alpha_j = (e_r B⁻¹) a_j.
		rho := l.binv[r*m : (r+1)*m]
		clear(l.alpha)
		for k, rk := range rho {
			if rk == 0 {
				continue
			}
			for e := l.rowStart[k]; e < l.rowStart[k+1]; e++ {
				l.alpha[l.rowCol[e]] += rk * l.rowVal[e]
			}
			l.alpha[n+k] = -rk
		}
		// Harris two-pass ratio test.
		thetaMax := math.Inf(1)
		for j := 0; j < N; j++ {
			if l.pos[j] >= 0 || l.lo[j] == l.up[j] {
				continue
			}
			a := l.alpha[j]
			if a > -tolPivot && a < tolPivot {
				continue
			}
			s, dj := a, l.d[j]
			if l.atUp[j] {
				s, dj = -a, -dj
			}
			if inc == (s > 0) {
				continue
			}
			if dj < 0 {
				dj = 0
			}
			if t := (dj + tolDual) / math.Abs(a); t < thetaMax {
				thetaMax = t
			}
		}
		if math.IsInf(thetaMax, 1) {
			return lpInfeasible
		}
		q, bestA := -1, 0.0
		for j := 0; j < N; j++ {
			if l.pos[j] >= 0 || l.lo[j] == l.up[j] {
				continue
			}
			a := l.alpha[j]
			if a > -tolPivot && a < tolPivot {
				continue
			}
			s, dj := a, l.d[j]
			if l.atUp[j] {
				s, dj = -a, -dj
			}
			if inc == (s > 0) {
				continue
			}
			if dj < 0 {
				dj = 0
			}
			if dj/math.Abs(a) <= thetaMax && math.Abs(a) > bestA {
				q, bestA = j, math.Abs(a)
			}
		}
		// Column q of the tableau: B⁻¹ a_q.
		clear(l.col)
		if q < n {
			for e := l.colStart[q]; e < l.colStart[q+1]; e++ {
				k, val := l.colRow[e], l.colVal[e]
				for i := 0; i < m; i++ {
					l.col[i] += l.binv[i*m+k] * val
				}
			}
		} else {
			k := q - n
			for i := 0; i < m; i++ {
				l.col[i] = -l.binv[i*m+k]
			}
		}
		aq := l.alpha[q]
		if math.Abs(l.col[r]-aq) > 1e-7*(1+math.Abs(aq)) && l.since > 0 {
			l.refactor() // the inverse has drifted; retry with a fresh one
			continue
		}
		// Dual update.
		dq := l.d[q]
		if (l.atUp[q] && dq > 0) || (!l.atUp[q] && dq < 0) {
			dq = 0
		}
		theta := dq / aq
		if theta != 0 {
			for j := 0; j < N; j++ {
				if l.pos[j] < 0 && l.alpha[j] != 0 {
					l.d[j] -= theta * l.alpha[j]
				}
			}
		}
		l.d[q] = 0
		l.d[v] = -theta
		// Primal update.
		target := l.up[v]
		if inc {
			target = l.lo[v]
		}
		step := (l.x[v] - target) / aq
		for i := 0; i < m; i++ {
			if l.col[i] != 0 {
				l.x[l.head[i]] -= l.col[i] * step
			}
		}
		l.x[q] += step
		l.x[v] = target
		// Basis update.
		piv := l.col[r]
		rr := l.binv[r*m : (r+1)*m]
		for k := range rr {
			rr[k] /= piv
		}
		for i := 0; i < m; i++ {
			if i == r || l.col[i] == 0 {
				continue
			}
			g := l.col[i]
			ri := l.binv[i*m : (i+1)*m]
			for k, val := range rr {
				if val != 0 {
					ri[k] -= g * val
				}
			}
		}
		l.head[r] = q
		l.pos[q] = r
		l.pos[v] = -1
		l.atUp[v] = !inc
		l.since++
		l.iters++
	}
}

// lagrange returns a valid lower bound on c·x over the current box from the
// simplex multipliers, whatever their quality: multipliers whose sign would
// need an infinite row bound are clipped to zero. It leaves the proposals'
// reduced costs for those multipliers in l.rc, so that forcing proposal j to
// the bound it does not prefer raises the bound by at least |rc_j|·(up−lo).
func (l *lp) lagrange() float64 {
	m, n := l.m, l.n
	clear(l.y)
	for i := 0; i < m; i++ {
		cb := l.c[l.head[i]]
		if cb == 0 {
			continue
		}
		row := l.binv[i*m : (i+1)*m]
		for k, v := range row {
			l.y[k] += cb * v
		}
	}
	bound := 0.0
	for i := 0; i < m; i++ {
		yi := l.y[i]
		lo, up := l.lo[n+i], l.up[n+i]
		switch {
		case yi > 0 && math.IsInf(lo, -1), yi < 0 && math.IsInf(up, 1):
			l.y[i] = 0
		case yi > 0:
			bound += yi * lo
		case yi < 0:
			bound += yi * up
		}
	}
	for j := 0; j < n; j++ {
		s := l.c[j]
		for k := l.colStart[j]; k < l.colStart[j+1]; k++ {
			s -= l.y[l.colRow[k]] * l.colVal[k]
		}
		l.rc[j] = s
		if s > 0 {
			bound += s * l.lo[j]
		} else {
			bound += s * l.up[j]
		}
	}
	return bound
}

// restrict builds the relaxation over the columns keep marks, moving the
// fixed columns' contribution into the row bounds and dropping rows the
// remaining bounds imply. It reports false when a row can no longer be met.
func (l *lp) restrict(keep []bool) (*lp, []int, bool) {
	var cols []int
	newIdx := make([]int, l.n)
	for j := 0; j < l.n; j++ {
		newIdx[j] = -1
		if keep[j] {
			newIdx[j] = len(cols)
			cols = append(cols, j)
		}
	}
	var rows []lpRow
	for i := 0; i < l.m; i++ {
		var r lpRow
		shift := 0.0
		minAct, maxAct := 0.0, 0.0
		for e := l.rowStart[i]; e < l.rowStart[i+1]; e++ {
			j, v := l.rowCol[e], l.rowVal[e]
			if newIdx[j] < 0 {
				shift += v * l.lo[j]
				continue
			}
			r.idx = append(r.idx, newIdx[j])
			r.val = append(r.val, v)
			minAct += math.Min(v*l.lo[j], v*l.up[j])
			maxAct += math.Max(v*l.lo[j], v*l.up[j])
		}
		r.lo, r.up = l.lo[l.n+i]-shift, l.up[l.n+i]-shift
		slack := 1e-9 * (1 + math.Abs(minAct) + math.Abs(maxAct) + math.Abs(shift))
		if minAct > r.up+slack || maxAct < r.lo-slack {
			return nil, nil, false
		}
		if minAct >= r.lo-slack && maxAct <= r.up+slack {
			continue
		}
		rows = append(rows, r)
	}
	c := make([]float64, len(cols))
	lo := make([]float64, len(cols))
	up := make([]float64, len(cols))
	for k, j := range cols {
		c[k], lo[k], up[k] = l.c[j], l.lo[j], l.up[j]
	}
	return newLP(len(cols), rows, c, lo, up), cols, true
}
