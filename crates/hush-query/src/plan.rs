//! Converts promql-parser's AST into the evaluator's plan, rejecting what Hush does not evaluate.
//!
//! Doing every check here, before any data is read, is what keeps "unsupported" from ever
//! turning into a silently wrong answer halfway through an evaluation.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hush_model::{METRIC_NAME, MatchOp, Matcher};
use promql_parser::label::MatchOp as PMatchOp;
use promql_parser::parser::{self as pp, Expr, LabelModifier, VectorMatchCardinality, token};

use crate::QueryError;
use crate::functions::Func;

/// Where an `@` modifier pins evaluation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum At {
    Time(i64),
    Start,
    End,
}

/// A vector or matrix selector. `id` indexes the data the engine loads for it.
#[derive(Debug, Clone)]
pub(crate) struct Selector {
    pub id: usize,
    pub matchers: Vec<Matcher>,
    pub offset_ms: i64,
    pub at: Option<At>,
    /// `Some` for a matrix selector `x[5m]`.
    pub range_ms: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AggOp {
    Sum,
    Avg,
    Min,
    Max,
    Count,
    Group,
    Stddev,
    Stdvar,
    TopK,
    BottomK,
    Quantile,
    CountValues,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    And,
    Or,
    Unless,
}

impl BinOp {
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinOp::Eq | BinOp::Ne | BinOp::Gt | BinOp::Lt | BinOp::Ge | BinOp::Le
        )
    }

    pub fn is_set(self) -> bool {
        matches!(self, BinOp::And | BinOp::Or | BinOp::Unless)
    }
}

/// `by (...)` keeps the listed labels; `without (...)` drops them and `__name__`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Grouping {
    By(Vec<String>),
    Without(Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Card {
    OneToOne,
    ManyToOne,
    OneToMany,
    ManyToMany,
}

/// Vector matching of a binary operation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Matching {
    pub card: Card,
    /// `on (...)` when true, `ignoring (...)` otherwise.
    pub on: bool,
    pub labels: Vec<String>,
    /// Labels copied from the "one" side by `group_left (...)` / `group_right (...)`.
    pub include: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) enum Node {
    Number(f64),
    Str(String),
    Vector(Selector),
    Matrix(Selector),
    Paren(Box<Node>),
    Neg(Box<Node>),
    Call {
        func: Func,
        args: Vec<Node>,
    },
    Agg {
        op: AggOp,
        expr: Box<Node>,
        param: Option<Box<Node>>,
        grouping: Grouping,
    },
    Binary {
        op: BinOp,
        lhs: Box<Node>,
        rhs: Box<Node>,
        matching: Matching,
        return_bool: bool,
    },
    Subquery {
        expr: Box<Node>,
        range_ms: i64,
        step_ms: Option<i64>,
        offset_ms: i64,
        at: Option<At>,
    },
}

/// A converted query and the selectors whose data it needs.
#[derive(Debug)]
pub(crate) struct Plan {
    pub root: Node,
    pub selectors: Vec<Selector>,
}

/// Most tokens a query may have: the third-party parser recurses per nesting level, and a
/// deeper stack than that would abort the process instead of failing the query.
const MAX_TOKENS: usize = 4096;
/// Deepest expression nesting the evaluator recurses into.
const MAX_DEPTH: usize = 200;

/// Parses `query` and converts it.
pub(crate) fn plan(query: &str) -> Result<Plan, QueryError> {
    if approx_tokens(query) > MAX_TOKENS {
        return Err(QueryError::InvalidQuery(format!(
            "query has more than {MAX_TOKENS} tokens"
        )));
    }
    // The parser is third-party code; a panic there must still not take the caller down.
    let parsed = std::panic::catch_unwind(|| pp::parse(query))
        .map_err(|_| QueryError::Parse("the parser failed on this input".into()))?
        .map_err(|msg| {
            // Prometheus 2.x knows `holt_winters`; the parser only its later name, which Hush
            // does not evaluate either. Say so rather than call valid PromQL a syntax error.
            if msg.contains("unknown function with name 'holt_winters'") {
                QueryError::unsupported("function `holt_winters`")
            } else {
                QueryError::Parse(msg)
            }
        })?;
    let mut c = Converter {
        selectors: Vec::new(),
        depth: 0,
    };
    let root = c.node(&parsed)?;
    Ok(Plan {
        root,
        selectors: c.selectors,
    })
}

/// Counts words, numbers, quoted strings and punctuation: an upper bound on parser tokens,
/// good enough to refuse pathological input early.
fn approx_tokens(q: &str) -> usize {
    let mut n = 0;
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in q.chars() {
        if let Some(open) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == open {
                quote = None;
            }
            continue;
        }
        if c == '"' || c == '\'' || c == '`' {
            quote = Some(c);
            n += 1;
            in_word = false;
        } else if c.is_alphanumeric() || c == '_' || c == '.' || c == ':' {
            if !in_word {
                n += 1;
            }
            in_word = true;
        } else {
            in_word = false;
            if !c.is_whitespace() {
                n += 1;
            }
        }
    }
    n
}

struct Converter {
    selectors: Vec<Selector>,
    depth: usize,
}

impl Converter {
    fn node(&mut self, e: &Expr) -> Result<Node, QueryError> {
        if self.depth >= MAX_DEPTH {
            return Err(QueryError::InvalidQuery(format!(
                "query nests deeper than {MAX_DEPTH} levels"
            )));
        }
        self.depth += 1;
        let node = self.node_inner(e);
        self.depth -= 1;
        node
    }

    fn node_inner(&mut self, e: &Expr) -> Result<Node, QueryError> {
        Ok(match e {
            Expr::NumberLiteral(n) => Node::Number(n.val),
            Expr::StringLiteral(s) => Node::Str(s.val.clone()),
            Expr::Paren(p) => Node::Paren(Box::new(self.node(&p.expr)?)),
            Expr::Unary(u) => Node::Neg(Box::new(self.node(&u.expr)?)),
            Expr::VectorSelector(vs) => Node::Vector(self.selector(vs, None)?),
            Expr::MatrixSelector(ms) => {
                Node::Matrix(self.selector(&ms.vs, Some(duration_ms(&ms.range)?))?)
            }
            Expr::Call(call) => {
                let func = Func::from_name(call.func.name).ok_or_else(|| {
                    QueryError::unsupported(format!("function `{}`", call.func.name))
                })?;
                let args = call
                    .args
                    .args
                    .iter()
                    .map(|a| self.node(a))
                    .collect::<Result<Vec<_>, _>>()?;
                Node::Call { func, args }
            }
            Expr::Aggregate(a) => {
                let op = agg_op(a.op)?;
                let grouping = match &a.modifier {
                    None => Grouping::By(Vec::new()),
                    Some(LabelModifier::Include(ls)) => Grouping::By(ls.labels.clone()),
                    Some(LabelModifier::Exclude(ls)) => Grouping::Without(ls.labels.clone()),
                };
                let param = match &a.param {
                    Some(p) => Some(Box::new(self.node(p)?)),
                    None => None,
                };
                Node::Agg {
                    op,
                    expr: Box::new(self.node(&a.expr)?),
                    param,
                    grouping,
                }
            }
            Expr::Binary(b) => self.binary(b)?,
            Expr::Subquery(sq) => Node::Subquery {
                expr: Box::new(self.node(&sq.expr)?),
                range_ms: duration_ms(&sq.range)?,
                step_ms: sq.step.as_ref().map(duration_ms).transpose()?,
                offset_ms: offset_ms(sq.offset.as_ref())?,
                at: at(sq.at.as_ref()),
            },
            Expr::Extension(_) => return Err(QueryError::unsupported("extension expressions")),
        })
    }

    fn binary(&mut self, b: &pp::BinaryExpr) -> Result<Node, QueryError> {
        let op = bin_op(b.op)?;
        let (mut matching, return_bool) = match &b.modifier {
            None => (
                Matching {
                    card: Card::OneToOne,
                    on: false,
                    labels: Vec::new(),
                    include: Vec::new(),
                },
                false,
            ),
            Some(m) => {
                if m.fill_values.lhs.is_some() || m.fill_values.rhs.is_some() {
                    return Err(QueryError::unsupported("`fill` modifiers"));
                }
                let (card, include) = match &m.card {
                    VectorMatchCardinality::OneToOne => (Card::OneToOne, Vec::new()),
                    VectorMatchCardinality::ManyToMany => (Card::ManyToMany, Vec::new()),
                    VectorMatchCardinality::ManyToOne(ls) => (Card::ManyToOne, ls.labels.clone()),
                    VectorMatchCardinality::OneToMany(ls) => (Card::OneToMany, ls.labels.clone()),
                };
                let (on, labels) = match &m.matching {
                    None => (false, Vec::new()),
                    Some(LabelModifier::Include(ls)) => (true, ls.labels.clone()),
                    Some(LabelModifier::Exclude(ls)) => (false, ls.labels.clone()),
                };
                (
                    Matching {
                        card,
                        on,
                        labels,
                        include,
                    },
                    m.return_bool,
                )
            }
        };
        if op.is_set() {
            matching.card = Card::ManyToMany;
        }
        Ok(Node::Binary {
            op,
            lhs: Box::new(self.node(&b.lhs)?),
            rhs: Box::new(self.node(&b.rhs)?),
            matching,
            return_bool,
        })
    }

    fn selector(
        &mut self,
        vs: &pp::VectorSelector,
        range_ms: Option<i64>,
    ) -> Result<Selector, QueryError> {
        if !vs.matchers.or_matchers.is_empty() {
            return Err(QueryError::unsupported("`or` inside label matchers"));
        }
        let mut matchers = Vec::with_capacity(vs.matchers.matchers.len() + 1);
        if let Some(name) = &vs.name {
            matchers.push(Matcher::equal(METRIC_NAME, name.clone()));
        }
        for m in &vs.matchers.matchers {
            let op = match m.op {
                PMatchOp::Equal => MatchOp::Equal,
                PMatchOp::NotEqual => MatchOp::NotEqual,
                PMatchOp::Re(_) => MatchOp::Regex,
                PMatchOp::NotRe(_) => MatchOp::NotRegex,
            };
            let matcher = Matcher::new(op, m.name.clone(), m.value.clone())
                .map_err(|e| QueryError::InvalidQuery(e.to_string()))?;
            matchers.push(matcher);
        }
        let sel = Selector {
            id: self.selectors.len(),
            matchers,
            offset_ms: offset_ms(vs.offset.as_ref())?,
            at: at(vs.at.as_ref()),
            range_ms,
        };
        self.selectors.push(sel.clone());
        Ok(sel)
    }
}

fn duration_ms(d: &Duration) -> Result<i64, QueryError> {
    i64::try_from(d.as_millis())
        .map_err(|_| QueryError::InvalidQuery(format!("duration {d:?} is too long")))
}

fn offset_ms(o: Option<&pp::Offset>) -> Result<i64, QueryError> {
    Ok(match o {
        None => 0,
        Some(pp::Offset::Pos(d)) => duration_ms(d)?,
        Some(pp::Offset::Neg(d)) => -duration_ms(d)?,
    })
}

fn at(a: Option<&pp::AtModifier>) -> Option<At> {
    a.map(|a| match a {
        pp::AtModifier::Start => At::Start,
        pp::AtModifier::End => At::End,
        pp::AtModifier::At(t) => At::Time(system_time_ms(*t)),
    })
}

fn system_time_ms(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_millis())
            .map(|v| -v)
            .unwrap_or(i64::MIN),
    }
}

fn agg_op(op: token::TokenType) -> Result<AggOp, QueryError> {
    Ok(match op.id() {
        token::T_SUM => AggOp::Sum,
        token::T_AVG => AggOp::Avg,
        token::T_MIN => AggOp::Min,
        token::T_MAX => AggOp::Max,
        token::T_COUNT => AggOp::Count,
        token::T_GROUP => AggOp::Group,
        token::T_STDDEV => AggOp::Stddev,
        token::T_STDVAR => AggOp::Stdvar,
        token::T_TOPK => AggOp::TopK,
        token::T_BOTTOMK => AggOp::BottomK,
        token::T_QUANTILE => AggOp::Quantile,
        token::T_COUNT_VALUES => AggOp::CountValues,
        _ => return Err(QueryError::unsupported(format!("aggregation `{op}`"))),
    })
}

fn bin_op(op: token::TokenType) -> Result<BinOp, QueryError> {
    Ok(match op.id() {
        token::T_ADD => BinOp::Add,
        token::T_SUB => BinOp::Sub,
        token::T_MUL => BinOp::Mul,
        token::T_DIV => BinOp::Div,
        token::T_MOD => BinOp::Mod,
        token::T_POW => BinOp::Pow,
        token::T_EQLC => BinOp::Eq,
        token::T_NEQ => BinOp::Ne,
        token::T_GTR => BinOp::Gt,
        token::T_LSS => BinOp::Lt,
        token::T_GTE => BinOp::Ge,
        token::T_LTE => BinOp::Le,
        token::T_LAND => BinOp::And,
        token::T_LOR => BinOp::Or,
        token::T_LUNLESS => BinOp::Unless,
        _ => return Err(QueryError::unsupported(format!("binary operator `{op}`"))),
    })
}
