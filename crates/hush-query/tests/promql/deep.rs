use hush_query::QueryError;

use crate::*;

#[test]
fn deep_queries_fail_instead_of_overflowing_the_stack() {
    let e = engine(&[("x", &[(0, 1.0)])]);
    for n in [100usize, 1000, 5000, 50_000] {
        let chain = vec!["x"; n].join(" + ");
        let parens = format!("{}x{}", "(".repeat(n), ")".repeat(n));
        let neg = format!("{}x", "-".repeat(n));
        let or = vec!["x"; n].join(" or ");
        let pow = vec!["2"; n].join("^");
        for q in [chain, parens, neg, or, pow] {
            let got = e.instant(&q, 1000);
            if n >= 1000 {
                assert!(
                    matches!(got, Err(QueryError::InvalidQuery(_))),
                    "{n}: {got:?}"
                );
            }
        }
    }
    // a long but shallow query is fine
    let sum = format!("sum({})", vec!["x"; 50].join(" + "));
    assert_vector(instant(&e, &sum, 1), &[("{}", 50.0)]);
}
