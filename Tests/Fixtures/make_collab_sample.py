"""Makes FastSwift's bundled ratings, Sources/Collab/Resources/collab_sample/ratings.csv (run once;
the file is committed): 15,000 (user, movie, rating) rows of 300 users and 200 movies from a known
low-rank model, as MovieLens's are shaped (MovieLens itself cannot be downloaded on these machines).

A user's rating of a movie is 3.3 + u·v + b_user + b_movie + noise, with 5 latent factors of std
0.45, biases of std 0.3 (users) and 0.6 (movies), noise of std 0.5, rounded to a whole star and
clipped to 1...5. Each movie is named by its number and its true bias (`m17 (+0.84)`), so the biases collab_learner learns can
be read against the truth. Fixed seed: the same file every time.

    python3 Tests/Fixtures/make_collab_sample.py
"""
import csv, os
import numpy as np

rng = np.random.default_rng(2024)
users, movies, factors, count = 300, 200, 5, 15000
u = rng.normal(0, 0.45, (users, factors))
v = rng.normal(0, 0.45, (movies, factors))
bu = rng.normal(0, 0.3, users)
bm = rng.normal(0, 0.6, movies)
# Popular movies are rated more often (as in MovieLens): a Zipf-like weight per movie.
weights = 1 / np.arange(1, movies + 1) ** 0.6
weights /= weights.sum()
pairs = set()
rows = []
while len(rows) < count:
    a, b = int(rng.integers(users)), int(rng.choice(movies, p=weights))
    if (a, b) in pairs:
        continue
    pairs.add((a, b))
    r = 3.3 + u[a] @ v[b] + bu[a] + bm[b] + rng.normal(0, 0.5)
    rows.append((a + 1, f"m{b + 1} ({bm[b]:+.2f})", int(np.clip(np.rint(r), 1, 5))))

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Sources", "Collab", "Resources", "collab_sample")
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "ratings.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["user", "movie", "rating"])
    w.writerows(rows)
print("wrote", len(rows), "ratings")
