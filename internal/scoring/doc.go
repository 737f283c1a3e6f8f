// Package scoring is Facility's scoring engine: it turns the reviews of a
// call into aggregates, calibrated scores, reliability statistics and a
// ranking with a declared tie-break chain. It is pure computation (no
// database, no HTTP) so that it can be tested on its own and called by the
// evaluation workflow, the command line and the benchmark alike.
//
// The main entry points are ReadInstance (strict JSON input with
// validation), Analyse (everything at once, as one Result) and Generate
// (seeded synthetic calls with planted merits and leniencies). The building
// blocks are exported too: Summarise, Calibrate, RankIntervals,
// KrippendorffAlpha, ICC, SpearmanBrown and Rank.
//
// Calibration follows the additive model of MacKay et al. (2017):
// score = mean + proposal merit + evaluator leniency + noise, weighted by the
// evaluator's confidence, fitted by alternating ridge updates; evaluators with
// few reviews are shrunk toward zero leniency. Reliability uses Krippendorff's
// alpha (Hayes & Krippendorff 2007), the one-way ICCs of Shrout & Fleiss
// (1979) and the Spearman-Brown projection.
//
// Discordance rule (after Giraudeau et al. 2011, who compare a proposal's
// disagreement to the spread between proposals): a proposal is discordant on
// a criterion, or overall, when it has at least two scores and their
// standard deviation exceeds DiscordanceRatio (default 1) times the standard
// deviation of the proposals' mean scores. Its evaluators then disagree about
// it as much as proposals differ from each other, so its mean says little
// about where it belongs.
package scoring
