import FastSwift
print(Threads.count)
