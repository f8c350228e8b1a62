package chat

import (
	"math"
	"strings"
)

// Arithmetic with Python semantics: bool is an int, int stays int, true
// division gives float, // and % floor, str/list/tuple concatenate and
// repeat, and mismatched types raise TypeError.

func unaryOp(op string, x any) (any, error) {
	if u, ok := x.(undefined); ok {
		return nil, undefinedError(u)
	}
	if i, ok := asInt(x); ok {
		if op == "-" {
			if i == math.MinInt {
				return nil, overflow()
			}
			return -i, nil
		}
		return i, nil
	}
	if f, ok := x.(float64); ok {
		if op == "-" {
			return -f, nil
		}
		return f, nil
	}
	if b, ok := x.(bigInt); ok {
		f, _ := numeric(b)
		if op == "-" {
			return -f, nil
		}
		return f, nil
	}
	return nil, typeErrorf("bad operand type for unary %s: '%s'", op, typeName(x))
}

func overflow() error {
	return &evalError{kind: "OverflowError", msg: "integer result does not fit in 64 bits"}
}

func unsupported(op string, l, r any) error {
	return typeErrorf("unsupported operand type(s) for %s: '%s' and '%s'", op, typeName(l), typeName(r))
}

func binaryOp(st *renderState, op string, l, r any) (any, error) {
	if op == "~" {
		ls, err := toStrLimit(l, st.lim.MaxOutputBytes)
		if err != nil {
			return nil, err
		}
		rs, err := toStrLimit(r, st.lim.MaxOutputBytes)
		if err != nil {
			return nil, err
		}
		if err := st.charge(len(ls) + len(rs)); err != nil {
			return nil, err
		}
		return ls + rs, nil
	}
	if u, ok := l.(undefined); ok {
		return nil, undefinedError(u)
	}
	if u, ok := r.(undefined); ok {
		return nil, undefinedError(u)
	}
	li, lInt := asInt(l)
	ri, rInt := asInt(r)
	if lInt && rInt {
		return intOp(op, li, ri)
	}
	lf, lNum := numeric(l)
	rf, rNum := numeric(r)
	if lNum && rNum {
		return floatOp(op, lf, rf)
	}
	switch op {
	case "+":
		return concat(st, l, r)
	case "*":
		if lInt {
			return repeat(st, r, li, l)
		}
		if rInt {
			return repeat(st, l, ri, r)
		}
		if isSeq(l) || isSeq(r) {
			other := r
			if isSeq(r) {
				other = l
			}
			return nil, typeErrorf("can't multiply sequence by non-int of type '%s'", typeName(other))
		}
	case "%":
		if s, ok := l.(string); ok {
			out, err := percentFormat(s, r)
			if err != nil {
				return nil, err
			}
			return out, st.charge(len(out))
		}
	}
	return nil, unsupported(op, l, r)
}

func isSeq(v any) bool {
	switch v.(type) {
	case string, []any, tuple:
		return true
	}
	return false
}

func concat(st *renderState, l, r any) (any, error) {
	switch a := l.(type) {
	case string:
		if b, ok := r.(string); ok {
			if err := st.charge(len(a) + len(b)); err != nil {
				return nil, err
			}
			return a + b, nil
		}
		return nil, typeErrorf(`can only concatenate str (not "%s") to str`, typeName(r))
	case []any:
		if b, ok := r.([]any); ok {
			if err := st.charge(16 * (len(a) + len(b))); err != nil {
				return nil, err
			}
			out := make([]any, 0, len(a)+len(b))
			return append(append(out, a...), b...), nil
		}
		return nil, typeErrorf(`can only concatenate list (not "%s") to list`, typeName(r))
	case tuple:
		if b, ok := r.(tuple); ok {
			if err := st.charge(16 * (len(a) + len(b))); err != nil {
				return nil, err
			}
			out := make(tuple, 0, len(a)+len(b))
			return append(append(out, a...), b...), nil
		}
		return nil, typeErrorf(`can only concatenate tuple (not "%s") to tuple`, typeName(r))
	}
	return nil, unsupported("+", l, r)
}

func repeat(st *renderState, seq any, n int, num any) (any, error) {
	n = max(n, 0)
	switch s := seq.(type) {
	case string:
		if len(s) > 0 && n > math.MaxInt/len(s) {
			return nil, st.tooBig()
		}
		if err := st.charge(len(s) * n); err != nil {
			return nil, err
		}
		return strings.Repeat(s, n), nil
	case []any:
		return repeatItems(st, s, n, func(x []any) any { return x })
	case tuple:
		return repeatItems(st, s, n, func(x []any) any { return tuple(x) })
	}
	return nil, unsupported("*", num, seq)
}

func repeatItems(st *renderState, s []any, n int, wrap func([]any) any) (any, error) {
	if len(s) > 0 && n > math.MaxInt/(16*len(s)) {
		return nil, st.tooBig()
	}
	if err := st.charge(16 * len(s) * n); err != nil {
		return nil, err
	}
	out := make([]any, 0, len(s)*n)
	for range n {
		out = append(out, s...)
	}
	return wrap(out), nil
}

func intOp(op string, a, b int) (any, error) {
	switch op {
	case "+":
		if (b > 0 && a > math.MaxInt-b) || (b < 0 && a < math.MinInt-b) {
			return nil, overflow()
		}
		return a + b, nil
	case "-":
		if (b < 0 && a > math.MaxInt+b) || (b > 0 && a < math.MinInt+b) {
			return nil, overflow()
		}
		return a - b, nil
	case "*":
		if a != 0 && b != 0 {
			p := a * b
			if p/b != a || (a == -1 && b == math.MinInt) || (b == -1 && a == math.MinInt) {
				return nil, overflow()
			}
			return p, nil
		}
		return 0, nil
	case "/":
		if b == 0 {
			return nil, errZeroDivision
		}
		return float64(a) / float64(b), nil
	case "//":
		if b == 0 {
			return nil, &evalError{kind: "ZeroDivisionError", msg: "integer division or modulo by zero"}
		}
		if a == math.MinInt && b == -1 {
			return nil, overflow()
		}
		q := a / b
		if a%b != 0 && (a < 0) != (b < 0) {
			q--
		}
		return q, nil
	case "%":
		if b == 0 {
			return nil, &evalError{kind: "ZeroDivisionError", msg: "integer modulo by zero"}
		}
		if b == -1 {
			return 0, nil
		}
		m := a % b
		if m != 0 && (m < 0) != (b < 0) {
			m += b
		}
		return m, nil
	case "**":
		if b < 0 {
			if a == 0 {
				return nil, &evalError{kind: "ZeroDivisionError", msg: "0.0 cannot be raised to a negative power"}
			}
			return math.Pow(float64(a), float64(b)), nil
		}
		return intPow(a, b)
	}
	return nil, unsupported(op, a, b)
}

func intPow(a, b int) (any, error) {
	result := 1
	base := a
	for b > 0 {
		if b&1 == 1 {
			r, err := intOp("*", result, base)
			if err != nil {
				return nil, err
			}
			result = r.(int)
		}
		b >>= 1
		if b > 0 {
			sq, err := intOp("*", base, base)
			if err != nil {
				return nil, err
			}
			base = sq.(int)
		}
	}
	return result, nil
}

func floatOp(op string, a, b float64) (any, error) {
	switch op {
	case "+":
		return a + b, nil
	case "-":
		return a - b, nil
	case "*":
		return a * b, nil
	case "/":
		if b == 0 {
			return nil, &evalError{kind: "ZeroDivisionError", msg: "float division by zero"}
		}
		return a / b, nil
	case "//", "%":
		if b == 0 {
			return nil, &evalError{kind: "ZeroDivisionError", msg: "float floor division by zero"}
		}
		div, mod := floatDivmod(a, b)
		if op == "%" {
			return mod, nil
		}
		return div, nil
	case "**":
		if a == 0 && b < 0 {
			return nil, &evalError{kind: "ZeroDivisionError", msg: "0.0 cannot be raised to a negative power"}
		}
		if a < 0 && b != math.Trunc(b) {
			return nil, valueErrorf("negative number cannot be raised to a fractional power")
		}
		return math.Pow(a, b), nil
	}
	return nil, unsupported(op, a, b)
}

// floatDivmod is CPython's float_divmod.
func floatDivmod(vx, wx float64) (float64, float64) {
	mod := math.Mod(vx, wx)
	div := (vx - mod) / wx
	if mod != 0 {
		if (wx < 0) != (mod < 0) {
			mod += wx
			div -= 1
		}
	} else {
		mod = math.Copysign(0, wx)
	}
	var floordiv float64
	if div != 0 {
		floordiv = math.Floor(div)
		if div-floordiv > 0.5 {
			floordiv += 1
		}
	} else {
		floordiv = math.Copysign(0, vx/wx)
	}
	return floordiv, mod
}
