//! A small work-sharing map over all cores, for the CPU-bound steps of rendering (compiling
//! templates, parsing rendered documents) whose items are independent. Items are dealt out by weight
//! so each thread gets a similar share; results come back in input order.

/// Applies `work` to every item on up to `available_parallelism` threads and returns the results in
/// input order. `weight` estimates each item's cost (e.g. its text length).
pub fn map<T, R, E>(
    items: &[T],
    weight: impl Fn(&T) -> usize,
    work: impl Fn(&T) -> Result<R, E> + Sync,
) -> Result<Vec<R>, E>
where
    T: Sync,
    R: Send,
    E: Send,
{
    let threads =
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get).min(items.len()).max(1);
    if threads == 1 {
        return items.iter().map(&work).collect();
    }
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(weight(&items[i])));
    let mut shares: Vec<Vec<usize>> = vec![Vec::new(); threads];
    let mut loads = vec![0_usize; threads];
    for i in order {
        let lightest = (0..threads).min_by_key(|&t| loads[t]).unwrap_or(0);
        loads[lightest] += weight(&items[i]).max(1);
        shares[lightest].push(i);
    }
    let run = |share: &Vec<usize>| -> Vec<(usize, Result<R, E>)> {
        share.iter().map(|&i| (i, work(&items[i]))).collect()
    };
    let mut done: Vec<(usize, Result<R, E>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = shares[1..].iter().map(|share| scope.spawn(|| run(share))).collect();
        let mut done = run(&shares[0]);
        for handle in handles {
            done.extend(handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
        }
        done
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, result)| result).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_input_order_and_reports_the_first_error() {
        let items: Vec<usize> = (0..100).collect();
        let doubled = super::map(&items, |n| *n, |n| Ok::<_, String>(n * 2)).unwrap();
        assert_eq!(doubled, items.iter().map(|n| n * 2).collect::<Vec<_>>());
        let error = super::map(&items, |_| 1, |n| if *n % 40 == 39 { Err(*n) } else { Ok(*n) }).unwrap_err();
        assert_eq!(error, 39, "the error of the earliest failing item");
        assert!(super::map(&[] as &[usize], |_| 1, |n| Ok::<_, ()>(*n)).unwrap().is_empty());
    }
}
