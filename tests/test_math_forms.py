"""The math grader end to end, one table per form class of real outputs and gold answers: clock
times, inequalities on f(x) and |x|, named groups of solutions, sequences against sets, wrapped
choice letters, flattened line breaks, worked-solution references, decimal commas in references,
units inside brackets, LaTeX escaped twice and Greek letters.

Each class holds right answers that must pass and near misses that must not (a false pass is worse
than a false fail). The corpus generator (benchmarks/math_corpus.py) renders the same classes.
"""

from __future__ import annotations

import pytest

from graders.math import MathGrader

GRADER = MathGrader(workers=1)

CLOCK_TIMES = [
    ("time_same", "The meeting starts at $3:00$.", "3:00", 1.0),
    ("time_boxed", r"So they meet at \boxed{12:00}.", "12:00", 1.0),
    ("time_other_hour", r"\boxed{1:00}", "12:00", 0.0),  # 12:00 and 1:00 read as 12/0 and 1/0 were equal
    ("time_other_minutes", "The train leaves at 4:05.", "4:07", 0.0),
    ("time_not_an_hour_count", r"\boxed{3}", "3:00", 0.0),  # a time against a bare number: not decided equal
    ("time_minutes_leading_zero", r"\boxed{10:05}", "10:05", 1.0),
    ("ratio_still_a_ratio", r"The ratio is $\boxed{14:64}$.", "7:32", 1.0),
    ("ratio_wrong", r"\boxed{7:31}", "7:32", 0.0),
]

INEQUALITIES = [
    ("function_bounded", r"The range is $\boxed{(0,1)}$.", "0<f(x)<1", 1.0),
    ("function_bounded_answer_side", r"Therefore $0 < f(x) < 1$.", "(0, 1)", 1.0),
    ("function_bounded_closed_wrong", r"\boxed{[0,1]}", "0<f(x)<1", 0.0),
    ("function_bound_one_side", r"\boxed{g(x) \ge 2}", r"[2, \infty)", 1.0),
    ("absolute_between", r"$z \in \left[-\frac{3}{2}, -1\right] \cup \left[1, \frac{3}{2}\right]$", r"1\leq|z|\leq \frac{3}{2}", 1.0),
    ("absolute_between_missing_half", r"\boxed{\left[1, \frac{3}{2}\right]}", r"1\leq|z|\leq \frac{3}{2}", 0.0),
    ("absolute_below", r"\boxed{(-3, 3)}", "|x| < 3", 1.0),
    ("absolute_below_closed_wrong", r"\boxed{[-3, 3]}", "|x| < 3", 0.0),
    ("absolute_above", r"\boxed{(-\infty, -2) \cup (2, \infty)}", "|x| > 2", 1.0),
    ("absolute_above_one_side_wrong", r"\boxed{(2, \infty)}", "|x| > 2", 0.0),
    ("absolute_from_zero", r"\boxed{[-5, 5]}", r"0 \le |t| \le 5", 1.0),
]

NAMED_GROUPS = [
    ("groups_as_pairs", "$(5,2),(7,2)$", "p=5,q=2;p=7,q=2", 1.0),
    ("groups_as_pairs_reordered", r"\boxed{(7, 2), (5, 2)}", "p=5,q=2;p=7,q=2", 1.0),
    ("groups_both_named", r"\boxed{p=7,q=2;\ p=5,q=2}", "p=5,q=2;p=7,q=2", 1.0),
    ("groups_one_missing", r"\boxed{(5,2)}", "p=5,q=2;p=7,q=2", 0.0),
    ("groups_swapped_inside", r"\boxed{(2,5),(2,7)}", "p=5,q=2;p=7,q=2", 0.0),
    ("groups_of_three", r"\boxed{(1,2,3),(3,2,1)}", "a=3,b=2,c=1;a=1,b=2,c=3", 1.0),
    ("named_values_not_groups", r"\boxed{n = 2, k = 45}", "k = 45, n = 2", 1.0),
]

SEQUENCES = [
    ("sorted_reference_is_a_set", r"The solutions are $\boxed{3, 1, 2}$.", "1, 2, 3", 1.0),
    ("sorted_reference_descending", r"\boxed{-2, 10, 4}", "10, 4, -2", 1.0),
    ("unsorted_reference_is_a_sequence", r"\boxed{10, 4, -2}", "4, 10, -2", 0.0),
    ("unsorted_reference_in_order", r"\boxed{4, 10, -2}", "4, 10, -2", 1.0),
    ("unsorted_decimals_reordered", "0.1, 4, 2", "4, .1, 2", 0.0),
    ("unsorted_decimals_in_order", "4, 0.1, 2", "4, .1, 2", 1.0),
    ("set_answer_against_sequence", r"\boxed{\{-2, 4, 10\}}", "4, 10, -2", 0.0),
    ("two_values_any_order", r"\boxed{5, -1}", "-1, 5", 1.0),
    ("set_reference_any_order", r"\boxed{10, 4, -2}", r"\{4, 10, -2\}", 1.0),
]

CHOICE_LETTERS = [
    ("mathrm_letter", r"\mathrm{E}", "E", 1.0),
    ("textbf_letter", r"\textbf{A}", "A", 1.0),
    ("textbf_parenthesised", r"\textbf{(C)}", "C", 1.0),
    ("mathbf_letter_wrong", r"\mathbf{B}", "C", 0.0),
    ("letter_times_two_is_not_a_choice", r"\mathrm{E}*2", "E", 0.0),
    ("letter_plus_one_is_not_a_choice", "B+1", "B", 0.0),
    ("two_wrapped_letters_hedge", r"\mathrm{E} or \mathrm{A}", "E", 0.0),
]

FLATTENED = [
    (
        "conclusion_without_a_period",
        ("So, we can rewrite the equation as: P(A) = 1/2 + (1/4) * P(A) Now, we solve for P(A): (3/4) * P(A) = 1/2 "
        "P(A) = 2/3 Therefore, the probability that Alice wins is 2/3."),
        "2/3",
        1.0,
    ),
    (
        "conclusion_without_a_period_wrong",
        "So, we can write: x = 1/2 + y Now, we solve for y: y = 5 Thus, the value of y is 6.",
        "5",
        0.0,
    ),
    ("lower_case_so_mid_sentence", "we add them so the sum is 12 and then we double it to get 24.", "24", 1.0),
    (
        "capitalised_conclusion_after_space",
        "Each box holds 6 eggs and there are 7 boxes Hence the total is 42 eggs.",
        "42",
        1.0,
    ),
]

CONCLUSIONS_AFTER_MATH = [
    (
        "one_number_after_the_last_span",
        r"Then $$\frac{\Delta x'}{\Delta x} \geq 2.$$ Therefore, the minimum error in the position increases by 100%.",
        "100\\%",
        1.0,
    ),
    ("one_number_wrong", r"So $$v = 2t$$ at all times. Thus the speed doubles every 3 seconds.", "2", 0.0),
    ("two_numbers_leave_the_span", r"We find $$x = 7$$. So 4 and 5 were wrong guesses.", "7", 1.0),
    ("spaced_braced_thousands", r"Final Answer: The final answer is $14 {, }916$. I hope it is correct.", "14916", 1.0),
    ("spaced_braced_thousands_wrong", r"Final Answer: The final answer is $14 {, }912$.", "14916", 0.0),
]

WORKED_REFERENCES = [
    (
        "reference_final_answer_phrase",
        r"Its value becomes $.8\cdot .9x = .72x$, making for a total loss of $\boxed{28\%}$.",
        ("After Monday the stock is worth $90$, after Tuesday $72$, so it lost $100\\% - 72\\% = 28\\%$. "
        "Final Answer: The final answer is $28\\%$. I hope it is correct. Note: the first attempt above was wrong, "
        "the correct approach multiplies the two retained fractions."),
        1.0,
    ),
    (
        "reference_final_answer_phrase_wrong",
        r"\boxed{72\%}",
        ("After Monday the stock is worth $90$, after Tuesday $72$, so it lost $100\\% - 72\\% = 28\\%$. "
        "Final Answer: The final answer is $28\\%$. I hope it is correct. Note: the first attempt above was wrong, "
        "the correct approach multiplies the two retained fractions."),
        0.0,
    ),
    (
        "reference_box_still_first",
        r"\boxed{14916}",
        (r"The next possibility, $14{,}916,$ is a multiple of $3.$ Therefore, $\boxed{14{,}916}$ is our answer. "
        "Final answer: it was hard to find."),
        1.0,
    ),
]

REFERENCE_DECIMAL_COMMAS = [
    ("two_decimals", "1.22", "1,22", 1.0),
    ("two_decimals_wrong", "1.23", "1,22", 0.0),
    ("leading_zero", "0.111", "0,111", 1.0),
    ("one_decimal_stays_a_pair", "3.4", "3,4", 0.0),
    ("three_digits_are_thousands", "1.225", "1,225", 0.0),
    ("thousands", "1225", "1,225", 1.0),
]

UNITS_INSIDE = [
    ("bracket_with_degrees", "[45 degrees]", "45", 1.0),
    ("bracket_with_degrees_wrong", "[40 degrees]", "45", 0.0),
    ("list_with_units", "${35 cm,4}$", r"35\text{ cm}, 4", 1.0),
    ("tuple_with_units", r"\boxed{(3 \text{ apples}, 4 \text{ pears})}", "(3, 4)", 1.0),
    ("tuple_with_units_swapped", "(4 apples, 3 pears)", "(3, 4)", 0.0),
    ("variables_are_not_units", r"\boxed{(2ab, 4)}", "(2, 4)", 0.0),  # no space: a product
]

ESCAPED_TWICE = [
    ("fraction", r"\\frac12", "0.5", 1.0),
    ("fraction_wrong", r"\\frac13", "0.5", 0.0),
    ("matrix", r"\\begin{pmatrix} 1 \\\\ \\sqrt{4} \\end{pmatrix}", r"\begin{pmatrix} 1 \\ 2 \end{pmatrix}", 1.0),
    ("root", r"\\sqrt{2}", r"\sqrt{2}", 1.0),
    ("line_break_between_values_is_not_halved", r"\frac{1}{2} \\ 3", "0.5", 0.0),
]

A = r"\begin{pmatrix}1 & 2 \\ 3 & 4\end{pmatrix}"
B = r"\begin{bmatrix}5 & 6 \\ 7 & 8\end{bmatrix}"
MATRIX_SUMS = [
    ("sum", f"The sum is ${A} + {B}$.", r"\begin{pmatrix}6 & 8 \\ 10 & 12\end{pmatrix}", 1.0),
    ("sum_wrong_entry", f"${A} + {B}$", r"\begin{pmatrix}6 & 8 \\ 10 & 13\end{pmatrix}", 0.0),
    ("difference", f"${B} - {A}$", r"\begin{pmatrix}4 & 4 \\ 4 & 4\end{pmatrix}", 1.0),
    ("a_term_is_not_the_sum", f"${A} + {B}$", A, 0.0),
    ("points_do_not_add", "(1,2)+(3,4)", "(4,6)", 0.0),
    ("matrix_plus_number_is_not_read", f"${A} + 1$", r"\begin{pmatrix}2 & 3 \\ 4 & 5\end{pmatrix}", 0.0),
    ("product_written_twice_is_a_repeat", f"${A} {A}$", r"\begin{pmatrix}7 & 10 \\ 15 & 22\end{pmatrix}", 0.0),
]

GREEK = [
    ("capital_delta", r"\boxed{2\Delta x}", r"\Delta x + \Delta x", 1.0),
    ("capital_omega_not_small", r"\boxed{\Omega}", r"\omega", 0.0),
    ("nu_and_kappa", r"$\boxed{\nu \kappa}$", r"\kappa\nu", 1.0),
    ("capital_phi_wrong", r"\boxed{2\Phi}", r"3\Phi", 0.0),
]

TABLES = {
    "clock": CLOCK_TIMES,
    "inequality": INEQUALITIES,
    "named_groups": NAMED_GROUPS,
    "sequence": SEQUENCES,
    "choice": CHOICE_LETTERS,
    "flattened": FLATTENED,
    "conclusion_after_math": CONCLUSIONS_AFTER_MATH,
    "worked_reference": WORKED_REFERENCES,
    "reference_decimal_comma": REFERENCE_DECIMAL_COMMAS,
    "units_inside": UNITS_INSIDE,
    "escaped_twice": ESCAPED_TWICE,
    "matrix_sum": MATRIX_SUMS,
    "greek": GREEK,
}
CASES = [(f"{table}-{name}", *case) for table, rows in TABLES.items() for name, *case in rows]


@pytest.mark.parametrize(("output", "answer", "reward"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_form_classes(output, answer, reward):
    result = GRADER.grade(output, {"answer": answer})
    assert result.reward == reward, (result.status, result.metadata, result.reason)
