/* The arena: buffers off the stack, see arena.h. */
#include "log/arena.h"

#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>

#include "common/forkdata.h"
#include "common/sys.h"

/* Eight threads building events at once use the pool; a ninth maps its own
 * arena for as long as it needs one.  Untouched pages of the pool cost no
 * memory. */
#define NL_ARENA_POOL 8

static struct {
	char mem[NL_ARENA_POOL][NL_ARENA_SIZE] __attribute__((aligned(64)));
} pool;
/* Which of the pool's arenas are taken: every fork child reads them
 * (nl_arena_after_fork), so not in the pool's .bss, whose first page the
 * parent may never have touched. */
static atomic_bool taken[NL_ARENA_POOL] NL_FORK_DATA;

/* Per thread: the arena borrowed (NULL: none), the open brackets, the top.
 * initial-exec: a global-dynamic access may itself allocate. */
static __thread struct {
	char *_Atomic arena;
	atomic_uint brackets;
	size_t top;
} me __attribute__((tls_model("initial-exec")));

static int pool_index(const char *arena)
{
	uintptr_t a = (uintptr_t)arena, base = (uintptr_t)pool.mem;

	if (a < base || a >= base + sizeof pool.mem)
		return -1;
	return (int)((a - base) / NL_ARENA_SIZE);
}

static char *claim(void)
{
	for (int i = 0; i < NL_ARENA_POOL; i++)
		if (!atomic_load_explicit(&taken[i], memory_order_relaxed) &&
		    !atomic_exchange_explicit(&taken[i], 1,
					      memory_order_acquire))
			return pool.mem[i];
	long p = nl_sys_mmap_anon(NL_ARENA_SIZE);
	return p < 0 && p > -4096 ? NULL : (char *)p;
}

static void give_back(char *arena)
{
	int i = pool_index(arena);

	if (i >= 0)
		atomic_store_explicit(&taken[i], 0, memory_order_release);
	else
		nl_sys_munmap(arena, NL_ARENA_SIZE);
}

size_t nl_arena_enter(void)
{
	atomic_fetch_add_explicit(&me.brackets, 1, memory_order_relaxed);
	atomic_signal_fence(memory_order_seq_cst);
	return me.top;
}

void *nl_arena_get(size_t n)
{
	char *arena = atomic_load_explicit(&me.arena, memory_order_relaxed);

	if (!arena) {
		char *none = NULL, *mine = claim();
		if (!mine)
			return NULL;
		/* A handler may have bound one meanwhile: use that one. */
		if (atomic_compare_exchange_strong(&me.arena, &none, mine))
			arena = mine;
		else {
			give_back(mine);
			arena = none;
		}
	}
	n = (n + 15) & ~(size_t)15;
	size_t top = me.top;
	if (n > NL_ARENA_SIZE - top)
		return NULL;
	/* A handler arriving between these two lines allocates at `top` too,
	 * but puts the top back before this code resumes. */
	atomic_signal_fence(memory_order_seq_cst);
	me.top = top + n;
	atomic_signal_fence(memory_order_seq_cst);
	return arena + top;
}

void nl_arena_leave(size_t mark)
{
	me.top = mark;
	atomic_signal_fence(memory_order_seq_cst);
	if (atomic_fetch_sub_explicit(&me.brackets, 1,
				      memory_order_relaxed) != 1)
		return;
	/* The last bracket: whoever takes the arena out of the TLS (this
	 * code, or a handler that ran its own last bracket meanwhile) gives
	 * it back, exactly once. */
	char *arena = atomic_exchange(&me.arena, NULL);
	if (arena)
		give_back(arena);
}

void nl_arena_after_fork(void)
{
	int own = pool_index(atomic_load(&me.arena));

	/* Only the slots taken: a store of the 0 already there would copy
	 * the page, shared with the parent, for nothing. */
	for (int i = 0; i < NL_ARENA_POOL; i++)
		if (i != own && atomic_load(&taken[i]))
			atomic_store(&taken[i], 0);
}

int nl_arena_pool_used(void)
{
	int n = 0;

	for (int i = 0; i < NL_ARENA_POOL; i++)
		n += atomic_load(&taken[i]);
	return n;
}

int nl_arena_bound(void)
{
	return atomic_load(&me.arena) != NULL;
}
