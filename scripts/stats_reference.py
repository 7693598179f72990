# Reference values for src/calls/tests.rs, computed independently with scipy and statsmodels-free
# formulas. Run: python3 scripts/stats_reference.py   (needs scipy: pip install scipy)
import math
from scipy import stats

# Wilson 95% interval for 45 successes in 60.
k, n = 45, 60
z = stats.norm.ppf(0.975)
p = k / n
den = 1 + z * z / n
center = (p + z * z / (2 * n)) / den
half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
print("wilson(45, 60) =", center - half, center + half)

# Two-proportion z-test (pooled): a 40/100, b 55/100.
k1, n1, k2, n2 = 40, 100, 55, 100
pp = (k1 + k2) / (n1 + n2)
se = math.sqrt(pp * (1 - pp) * (1 / n1 + 1 / n2))
zz = (k2 / n2 - k1 / n1) / se
print("two_proportions p =", 2 * stats.norm.sf(abs(zz)))
se_u = math.sqrt(0.4 * 0.6 / 100 + 0.55 * 0.45 / 100)
print("two_proportions ci =", 0.15 - z * se_u, 0.15 + z * se_u)

# Welch's t-test.
a = [120.0, 135.5, 128.0, 141.2, 119.9, 150.3, 133.3, 127.7]
b = [140.1, 155.0, 149.9, 161.4, 138.8, 158.2, 147.0, 152.6, 149.5]
r = stats.ttest_ind(b, a, equal_var=False)
print("welch t, p =", r.statistic, r.pvalue)
ci = r.confidence_interval(0.95)
print("welch ci =", ci.low, ci.high)

# Chi-square goodness of fit: counts 530/470 against weights 50/50; 820/130/50 against 80/15/5.
print("chi2 a =", stats.chisquare([530, 470], [500, 500]))
print("chi2 b =", stats.chisquare([820, 130, 50], [800, 150, 50]))

# Percentiles (linear interpolation).
import numpy as np
xs = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0]
print("median, p90 =", np.percentile(xs, 50), np.percentile(xs, 90))
