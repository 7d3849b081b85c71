/* test_powertf.c - Yeo-Johnson against scikit-learn 1.2.1's PowerTransformer. */
#include <math.h>
#include <string.h>

#include "powertf.h"
#include "testlib.h"

static void check_case(const double *x, size_t n, double lambda, const double *expect)
{
    double out[32];
    double l = rs_yeojohnson_fit_transform(x, n, out);
    CHECK_NEAR(l, lambda, 1e-4);
    CHECK_NEAR(rs_yeojohnson_lambda(x, n), l, 0.0);
    if (expect)
        for (size_t i = 0; i < n; i++)
            CHECK_NEAR(out[i], expect[i], 1e-4);
    double mean = 0, var = 0;
    for (size_t i = 0; i < n; i++)
        mean += out[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++)
        var += (out[i] - mean) * (out[i] - mean);
    CHECK_NEAR(mean, 0.0, 1e-12);
    CHECK_NEAR(var / (double)n, 1.0, 1e-9);
}

int main(void)
{
    /* the transform itself, both branches and the special λ */
    CHECK_NEAR(rs_yeojohnson(3.0, 0.0), log(4.0), 1e-15);
    CHECK_NEAR(rs_yeojohnson(3.0, 0.5), (2.0 - 1.0) / 0.5, 1e-15);
    CHECK_NEAR(rs_yeojohnson(-3.0, 2.0), -log(4.0), 1e-15);
    CHECK_NEAR(rs_yeojohnson(-3.0, 1.0), -3.0, 1e-15);
    CHECK_NEAR(rs_yeojohnson(5.0, 1.0), 5.0, 1e-15);

    static const double x1[] = {0.5, 1.2, 3.0, 7.5, 20.0, 55.0};
    static const double y1[] = {-1.355595, -0.94692, -0.368949, 0.267022, 0.912733, 1.49171};
    check_case(x1, 6, -0.201985, y1);

    static const double x2[] = {-3.0, -1.0, 0.0, 0.5, 2.0, 9.0};
    static const double y2[] = {-1.656132, -0.503029, -0.074064, 0.091413, 0.48071, 1.661103};
    check_case(x2, 6, 0.573410, y2);

    static const double x3[] = {6.1, -8.4, 1.0, 2.0, 0.7, 2.9, 3.5, 5.1,
                                1.8, 3.6, 7.0, 3.0, 9.3, 7.5, -6.0};
    check_case(x3, 15, 1.3053, NULL);

    /* constant input: λ = 1, every output 0 */
    static const double c[] = {0.25, 0.25, 0.25, 0.25};
    double out[4] = {9, 9, 9, 9};
    CHECK_NEAR(rs_yeojohnson_fit_transform(c, 4, out), 1.0, 0.0);
    for (int i = 0; i < 4; i++)
        CHECK_NEAR(out[i], 0.0, 0.0);
    /* a single value (one category): λ = 1, output 0 */
    double one = 0.7, o1 = 5;
    CHECK_NEAR(rs_yeojohnson_fit_transform(&one, 1, &o1), 1.0, 0.0);
    CHECK_NEAR(o1, 0.0, 0.0);
    /* in place */
    double inplace[6];
    memcpy(inplace, x1, sizeof inplace);
    rs_yeojohnson_fit_transform(inplace, 6, inplace);
    CHECK_NEAR(inplace[5], 1.49171, 1e-4);
    return test_summary();
}
