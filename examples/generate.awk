# generate.awk - how the example data in examples/ was made (made up here, no
# public data set): 50 users in three age groups, 40 items in four genres;
# a rating is 3.3 + the item's quality + the group's taste for the genre +
# noise, rounded to 1..5 stars; clicks follow the same taste.
# The files are committed; rerunning with another awk may draw other numbers.
#   awk -v what=ratings -f examples/generate.awk > examples/ratings.csv
#   (what = ratings | clicks | users | items)
function gauss() { return sqrt(-2 * log(1 - rand())) * cos(6.283185307 * rand()) }
BEGIN {
    srand(20261205)
    split("teen adult senior", group, " ")
    split("drama comedy action documentary", genre, " ")
    # taste[group, genre]: teen likes action and comedy, senior drama and documentary
    split("-0.6 0.5 0.9 -1.0", t1, " "); split("0.2 0.3 0.1 0.1", t2, " "); split("0.8 -0.3 -0.9 0.7", t3, " ")
    for (g = 1; g <= 4; g++) { taste[1, g] = t1[g]; taste[2, g] = t2[g]; taste[3, g] = t3[g] }
    split("ka lo mi ra su te vi no da pe", syl, " ")
    nu = 50; ni = 40
    for (u = 1; u <= nu; u++) {
        uid[u] = syl[(u * 7) % 10 + 1] syl[(u * 3) % 10 + 1] syl[int(u / 10) % 10 + 1] "_" u
        ug[u] = 1 + int(rand() * 3)
        act[u] = 5 + int(rand() * rand() * 30)   # long-tailed activity
    }
    for (i = 1; i <= ni; i++) {
        iid[i] = sprintf("sku-%04d", 1000 + i * 137 % 9000)
        ig[i] = 1 + (i * 5) % 4
        q[i] = 0.5 * gauss()
    }
    if (what == "users") {
        for (u = 1; u <= nu; u++) printf "%s\tage_%s\n", uid[u], group[ug[u]]
        exit
    }
    if (what == "items") {
        for (i = 1; i <= ni; i++) printf "%s\tgenre_%s\n", iid[i], genre[ig[i]]
        exit
    }
    print (what == "clicks" ? "user,item,clicks" : "user_id,item_id,rating")
    for (u = 1; u <= nu; u++) {
        delete seen
        want = what == "clicks" ? 2 * act[u] : act[u]
        if (want > ni) want = ni
        for (n = 0; n < want; ) {
            i = 1 + int(rand() * ni)
            if (i in seen) continue
            seen[i] = 1; n++
            s = q[i] + taste[ug[u], ig[i]]
            if (what == "clicks") {
                if (s + 0.4 * gauss() < 0.2) continue    # not interesting: no click
                printf "%s,%s,%d\n", uid[u], iid[i], 1 + int(rand() * 3 + s)
            } else {
                r = int(3.3 + s + 0.4 * gauss() + 0.5)
                printf "%s,%s,%d\n", uid[u], iid[i], r < 1 ? 1 : (r > 5 ? 5 : r)
            }
        }
    }
}
