package chat

// The template AST. A template is a body: a list of statements, some of
// which hold nested bodies. Expressions appear inside statements.

type expr interface {
	eval(f *frame) (any, error)
}

type stmt interface {
	render(f *frame) error
}

type body []stmt

// Statements.
type (
	textStmt  struct{ text string }
	printStmt struct {
		x    expr
		line int
	}
	ifStmt struct {
		conds  []expr
		bodies []body // one per cond, plus one for else
		line   int
	}
	forStmt struct {
		target    target
		iter      expr
		cond      expr // "for x in y if cond"
		recursive bool
		body, els body
		line      int
	}
	setStmt struct {
		target  target
		x       expr          // nil: block form {% set x %}...{% endset %}
		body    body          // block form
		filters []*filterExpr // block form: {% set x | f %}
		line    int
	}
	macroStmt struct{ def *macroDef }
	callStmt  struct {
		caller *macroDef // the call block's body, passed as caller
		call   *callExpr
		line   int
	}
	filterStmt struct {
		filters []*filterExpr
		body    body
		line    int
	}
	withStmt struct {
		targets []target
		values  []expr
		body    body
		line    int
	}
	scopeStmt   struct{ body body } // {% block %} and HF's {% generation %}
	loopCtlStmt struct{ err error } // errBreak or errContinue
)

// macroDef is a {% macro %} or the body of a {% call %} block.
type macroDef struct {
	name         string
	params       []string
	defaults     []expr // nil: no default
	body         body
	catchVarargs bool // the body reads varargs, kwargs, caller
	catchKwargs  bool
	usesCaller   bool
}

// Expressions.
type (
	constExpr struct{ v any }
	nameExpr  struct {
		name string
		line int
	}
	listExpr  struct{ items []expr }
	tupleExpr struct{ items []expr }
	dictExpr  struct{ keys, vals []expr }
	attrExpr  struct {
		obj  expr
		name string
		line int
	}
	itemExpr struct {
		obj, key expr
		line     int
	}
	sliceExpr struct {
		obj, start, stop, step expr // nil parts are omitted
		line                   int
	}
	callArgs struct {
		args     []expr
		kwNames  []string
		kwVals   []expr
		starArgs expr
		starKw   expr
	}
	callExpr struct {
		fn expr
		callArgs
		line int
	}
	filterExpr struct {
		obj  expr // nil inside {% filter %} and {% set x | f %}
		name string
		callArgs
		line int
	}
	testExpr struct {
		obj  expr
		name string
		callArgs
		line int
	}
	unaryExpr struct {
		op   string // "-", "+", "not"
		x    expr
		line int
	}
	binExpr struct {
		op   string // + - * / // % ** ~ and or
		l, r expr
		line int
	}
	compareExpr struct {
		first expr
		ops   []string // == != < <= > >= in notin
		rest  []expr
		line  int
	}
	condExpr struct {
		test, then, els expr // els nil: undefined
	}
)

// Assignment targets of for, set and with.
type target interface{ isTarget() }

type (
	nameTarget  struct{ name string }
	tupleTarget struct{ items []target }
	nsTarget    struct{ name, attr string }
)

func (nameTarget) isTarget()  {}
func (tupleTarget) isTarget() {}
func (nsTarget) isTarget()    {}
