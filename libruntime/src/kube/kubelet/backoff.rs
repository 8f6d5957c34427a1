//! The kubelet's restart backoff: 10 s after the first failure, doubling to 5 minutes;
//! a container that ran 10 minutes without trouble starts over.

use std::time::Duration;

pub const INITIAL: Duration = Duration::from_secs(10);
pub const MAX: Duration = Duration::from_secs(300);
/// Running this long resets the backoff.
pub const RESET_AFTER: Duration = Duration::from_secs(600);

/// The wait before restart number `restarts + 1` (the first is at once); `ran` is how
/// long the last run lasted.
pub fn delay(restarts: u32, ran: Duration) -> Duration {
    if restarts == 0 {
        return Duration::ZERO;
    }
    if ran >= RESET_AFTER {
        return INITIAL;
    }
    let shift = (restarts - 1).min(16);
    (INITIAL * 2u32.pow(shift)).min(MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_seconds_doubling_to_five_minutes() {
        let s = Duration::from_secs;
        let table = [
            (0, s(1), s(0)),
            (1, s(1), s(10)),
            (2, s(1), s(20)),
            (3, s(1), s(40)),
            (5, s(1), s(160)),
            (6, s(1), s(300)),
            (40, s(1), s(300)),
            (6, s(700), s(10)),
        ];
        for (restarts, ran, want) in table {
            assert_eq!(delay(restarts, ran), want, "{restarts} {ran:?}");
        }
    }
}
